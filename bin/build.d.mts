// Types of bin/build.mjs (plain JS so that it runs before anything is compiled).
/** The repository root. */
export declare const ROOT: string
/** Builds, under the root: <stamp>/ (complete), tmp-* (being written), lock-<stamp>/ (a process is building). */
export declare const BUILD_DIR: string
/** Hash of the sources' paths, sizes and mtimes under root (and of the build's own inputs). */
export declare function sourceStamp(root?: string, files?: string[]): string
/**
 * The directory of a build of the sources under root (default: this repository), compiling one
 * when there is none; throws when it cannot.
 */
export declare function ensureBuild(opts?: { root?: string }): Promise<string>
