import { secondsInHour, tokensInMillion } from '../units.js';
import type { EstimateInput } from './input.js';
import type { PlanRow } from './plan.js';
import { meetsTarget, simulateDeployment, type PercentileTarget, type Simulation } from './simulation.js';
import type { Figures } from './terms.js';
import type { Traffic } from './workload.js';

/**
 * `plan` with percentile targets (or traffic as distributions): the analytic search (plan.ts)
 * proposes deployments, each is then served in simulation (simulation.ts) at the offered load,
 * and given the fewest replicas whose simulated percentiles meet the targets; the rows are
 * ranked by that. The same thresholds read as medians give the comparison "the percentile
 * targets add N devices".
 */

export interface PlanSimulationOptions {
  /** every target; plain --ttft/--tpot/--e2e are p50 targets */
  targets: PercentileTarget[];
  traffic: Traffic;
  requests: number;
  seed: number;
  qps?: number;
  concurrency?: number;
  maxDevices: number;
  /** verified rows wanted */
  top: number;
}

/** One analytic row served in simulation. */
export interface SimulatedPlanRow {
  /** the analytic row it started from (its replicas are the analytic answer) */
  row: PlanRow;
  /** fewest replicas meeting every target in simulation; undefined when none within --max-devices */
  replicas?: number;
  devices?: number;
  usdPerHour?: number;
  usdPerMillionOutputTokens?: number;
  /** the simulation at those replicas (or at the most tried, when none meets) */
  figures: Figures;
  /** fewest replicas meeting the same thresholds on the median (p50) */
  medianReplicas?: number;
  medianDevices?: number;
  /** targets missed at the most replicas tried */
  failing: PercentileTarget[];
}

export interface PlanSimulation {
  rows: SimulatedPlanRow[];
  /** analytic rows served in simulation */
  verified: number;
  simulations: number;
  /** the cheapest deployment meeting the targets on their percentiles, and on the median */
  best?: SimulatedPlanRow;
  medianBest?: SimulatedPlanRow;
}

/** The targets read as medians: each threshold on p50. */
const asMedians = (targets: PercentileTarget[]): PercentileTarget[] => targets.map((t) => ({ ...t, percentile: 50 }));

const usdPerMillion = (usdPerHour: number, outputTokensPerSecond: number): number => (usdPerHour / secondsInHour / Math.max(outputTokensPerSecond, Number.MIN_VALUE)) * tokensInMillion;

/**
 * Serves the analytic rows (cheapest first) in simulation until `top` of them are verified and
 * no unverified row could be cheaper than the last verified one, then ranks them by cost.
 */
export function verifyPlanBySimulation(rows: PlanRow[], o: PlanSimulationOptions): PlanSimulation {
  const out: SimulatedPlanRow[] = [];
  let simulations = 0;
  const sorted = [...rows].sort((a, b) => a.usdPerMillionOutputTokens - b.usdPerMillionOutputTokens);
  for (const row of sorted) {
    const verifiedCosts = out.filter((r) => r.usdPerHour !== undefined).map((r) => r.usdPerHour!).sort((a, b) => a - b);
    // with --qps every row serves the same tokens, so USD/h orders them; a row whose analytic
    // cost exceeds the top-th verified one cannot rank once replicas are only added
    if (verifiedCosts.length >= o.top && row.usdPerHour > verifiedCosts[o.top - 1]) break;
    if (out.length >= Math.max(o.top, 1) * 2 + 2) break;
    const cache = new Map<number, Simulation>();
    const at = (replicas: number): Simulation => {
      let s = cache.get(replicas);
      if (!s) {
        const input: EstimateInput = { ...row.input, parallel: { ...row.input.parallel!, replicas }, load: undefined, traffic: o.traffic };
        s = simulateDeployment(input, { requests: o.requests, seed: o.seed, qps: o.qps, concurrency: o.concurrency, targets: {} });
        simulations++;
        cache.set(replicas, s);
      }
      return s;
    };
    const maxReplicas = Math.max(1, Math.floor(o.maxDevices / row.devicesPerReplica));
    const fewest = (targets: PercentileTarget[]): number | undefined => {
      const meets = (r: number) => targets.every((t) => meetsTarget(at(r).figures, t));
      let r = Math.min(Math.max(1, row.replicas), maxReplicas);
      if (meets(r)) {
        while (r > 1 && meets(r - 1)) r--;
        return r;
      }
      // grow 1, 2, 4 ... replicas past the analytic count, then bisect
      let lo = r;
      let step = 1;
      let hi: number | undefined;
      while (lo + step <= maxReplicas) {
        if (meets(lo + step)) {
          hi = lo + step;
          break;
        }
        lo += step;
        step *= 2;
      }
      if (hi === undefined) {
        if (lo < maxReplicas && meets(maxReplicas)) hi = maxReplicas;
        else return undefined;
      }
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (meets(mid)) hi = mid;
        else lo = mid;
      }
      return hi;
    };
    const replicas = fewest(o.targets);
    const medianReplicas = fewest(asMedians(o.targets));
    const shown = replicas ?? Math.max(...cache.keys());
    const figures = at(shown).figures;
    const tps = figures['throughput.outputTokensPerSecond'].value;
    const usdPerHour = replicas !== undefined ? row.input.price!.usdPerHour * row.devicesPerReplica * replicas : undefined;
    out.push({
      row,
      replicas,
      devices: replicas !== undefined ? replicas * row.devicesPerReplica : undefined,
      usdPerHour,
      usdPerMillionOutputTokens: usdPerHour !== undefined ? usdPerMillion(usdPerHour, tps) : undefined,
      figures,
      medianReplicas,
      medianDevices: medianReplicas !== undefined ? medianReplicas * row.devicesPerReplica : undefined,
      failing: o.targets.filter((t) => !meetsTarget(figures, t)),
    });
  }
  const meeting = out.filter((r) => r.replicas !== undefined).sort((a, b) => a.usdPerHour! - b.usdPerHour!);
  const missing = out.filter((r) => r.replicas === undefined);
  const byMedian = out.filter((r) => r.medianReplicas !== undefined).sort((a, b) => a.row.input.price!.usdPerHour * a.medianDevices! - b.row.input.price!.usdPerHour * b.medianDevices!);
  return { rows: [...meeting, ...missing].slice(0, Math.max(o.top, missing.length && !meeting.length ? 1 : 0)), verified: out.length, simulations, best: meeting[0], medianBest: byMedian[0] };
}
