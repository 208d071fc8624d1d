import { WeirError, isWeirError, userError, describeError } from "../common/errors.ts";

const preview = (record: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(record) ?? String(record);
  } catch {
    text = String(record);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
};

/**
 * The error for a user function that threw: names the operator, the record (abbreviated) and
 * its index in the batch, and keeps the original error as `cause`. Not retriable: the same
 * record would fail again.
 */
export const userFunctionError = (operator: string, record: unknown, index: number, cause: unknown): WeirError => {
  if (isWeirError(cause)) return cause.withContext({ operator });
  return userError(
    "USER_FUNCTION_FAILED",
    `operator '${operator}' threw on record ${preview(record)} (record ${index} of its batch): ${describeError(cause)}`,
    { operator, cause },
  );
};
