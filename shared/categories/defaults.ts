/** The categories every new project starts with (migration 0001 gave them to existing projects too). */
export const DEFAULT_CATEGORIES = [
  { name: "Discovery", description: "A user is trying to figure out how to do something" },
  { name: "Troubleshooting", description: "A user is asking for help with a problem" },
] as const;
