/**
 * The wire version of every versioned type. Its own file so that wire types declared outside
 * blocks/schema.ts (the BFT messages) can use it while schema.ts embeds them without an import cycle.
 */
export const PROTOCOL_VERSION = 1
