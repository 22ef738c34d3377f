import { eq } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { projects } from "../db/schema.js";
import { NotFoundError } from "../platform/errors.js";

/** A project's settings (columns of its row): what `GET/PATCH projects/{id}/settings/` shows and changes. */
export interface ProjectSettings {
  /** Classifier labels less confident than this are in the review queue. */
  reviewThreshold: number;
}

/** The port of project settings: services take it; ProjectSettingsRepository is the Postgres adapter. */
export interface ProjectSettingsStore {
  get(projectId: string): Promise<ProjectSettings>;
  update(projectId: string, change: Partial<ProjectSettings>): Promise<ProjectSettings>;
}

// A project deleted while its key was still cached by the authorizer.
const projectNotFound = (projectId: string) => new NotFoundError(`Project ${projectId} not found`);

export class ProjectSettingsRepository implements ProjectSettingsStore {
  constructor(private readonly db: Db) {}

  async get(projectId: string): Promise<ProjectSettings> {
    const [row] = await this.db
      .select({ reviewThreshold: projects.reviewThreshold })
      .from(projects)
      .where(eq(projects.id, projectId));
    if (!row) throw projectNotFound(projectId);
    return row;
  }

  async update(projectId: string, change: Partial<ProjectSettings>): Promise<ProjectSettings> {
    const [row] = await this.db
      .update(projects)
      .set({ ...change, updatedAt: new Date() })
      .where(eq(projects.id, projectId))
      .returning({ reviewThreshold: projects.reviewThreshold });
    if (!row) throw projectNotFound(projectId);
    return row;
  }
}
