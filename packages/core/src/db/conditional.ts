/** A conditional write whose failed condition is an answer, not an error: `write`'s result, or
 * undefined when DynamoDB refused it because its condition did not hold (nothing was written). */
export async function unlessConditionFails<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if ((error as Error).name === "ConditionalCheckFailedException") return undefined;
    throw error;
  }
}
