/**
 * How a time range is read: the largest rollup slots that fit inside it (UTC days, quarter days, hours
 * then quarter hours: the grains of `thread_rollups`), and the raw rows for what is left at its
 * edges (less than 15 minutes on each side: a created_after with seconds, say). Every zone's
 * midnights are quarter-hour aligned in UTC today, so bucket boundaries need no raw rows.
 */

/** The rollup's grains in minutes, coarsest first (the migration's trigger keeps the same ones). */
export const GRAINS_MINUTES = [1440, 360, 60, 15] as const;

export interface SlotRange {
  grainMinutes: number;
  /** Slot starts in [from, to). */
  from: number;
  to: number;
}

export interface RawRange {
  from: number;
  to: number;
}

export interface RangePlan {
  slots: SlotRange[];
  raw: RawRange[];
}

const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;
const floorTo = (t: number, step: number) => Math.floor(t / step) * step;

function decompose(from: number, to: number, grains: readonly number[], plan: RangePlan): void {
  if (from >= to) return;
  const [grain, ...finer] = grains;
  if (grain === undefined) {
    plan.raw.push({ from, to });
    return;
  }
  const step = grain * 60_000;
  const alignedFrom = ceilTo(from, step);
  const alignedTo = floorTo(to, step);
  if (alignedFrom >= alignedTo) {
    decompose(from, to, finer, plan);
    return;
  }
  plan.slots.push({ grainMinutes: grain, from: alignedFrom, to: alignedTo });
  decompose(from, alignedFrom, finer, plan);
  decompose(alignedTo, to, finer, plan);
}

/** The rollup slots and raw edges that make up [from, to) exactly, without overlap. */
export function planRange(from: number, to: number): RangePlan {
  const plan: RangePlan = { slots: [], raw: [] };
  decompose(from, to, GRAINS_MINUTES, plan);
  return plan;
}
