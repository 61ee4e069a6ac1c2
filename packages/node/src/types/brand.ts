/**
 * Type-only key of the marker that {@link NodeModule} carries: it records which members the
 * factory returned, so that `spawnNode`'s types leave the node's own controls out. Nothing sets
 * it at runtime.
 * @internal
 */
export declare const nodeMembers: unique symbol;
