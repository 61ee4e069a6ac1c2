/** Keys starting with this are the host's (templates live there); scripts cannot read or write them. */
export const RESERVED_KEY_PREFIX = 'switchyard:';

/** Where a tenant's templates are stored in its `ctx.kv`, followed by the template's name. */
export const TEMPLATE_KEY_PREFIX = `${RESERVED_KEY_PREFIX}template:`;
