/** The categories every new project starts with (migration 0001 gave them to existing projects too, with shorter descriptions). */
export const DEFAULT_CATEGORIES = [
  {
    name: "Discovery",
    description:
      "A user asks how to do something: how to set up, create, configure, find or use a feature, a setting, the API or an integration.",
  },
  {
    name: "Troubleshooting",
    description:
      "A user reports a problem and asks for help fixing it: an error, a failure, a crash, a bug, or something that does not work as expected.",
  },
] as const;
