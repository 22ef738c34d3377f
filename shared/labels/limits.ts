/** A project may hold at most this many categories: the classifier's prompt has to list them all. */
export const MAX_CATEGORIES_PER_PROJECT = 100;
