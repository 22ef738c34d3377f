/** The one row a query by a unique key finds, or null. */
export async function oneOrNull<T>(query: PromiseLike<T[]>): Promise<T | null> {
  const [row] = await query;
  return row ?? null;
}
