// Types of bin/build.mjs (plain JS so that it runs before anything is compiled).
/** The repository root. */
export declare const ROOT: string
/** Where builds go: one directory per source stamp. */
export declare const BUILD_ROOT: string
/** Hash of the sources' paths, sizes and mtimes (and of the build's own inputs). */
export declare function sourceStamp(files?: string[]): string
/** The directory of a build of the current sources, compiling one when there is none; throws when it cannot. */
export declare function ensureBuild(): Promise<string>
