/** Event-time bounds shared by every layer (engine, operators, connectors). */

/** Before any watermark: event time has not started. */
export const MIN_WATERMARK = Number.MIN_SAFE_INTEGER;
/** End of input: every event-time timer fires. */
export const MAX_WATERMARK = Number.MAX_SAFE_INTEGER;
