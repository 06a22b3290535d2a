/**
 * Worker thread of the accuracy evaluation (accuracy-lib.ts runFitTasks): resolves the suite and
 * presets under `root` as the main thread did, runs its share of the independent fits (leave-one-out
 * and by-source, each from scratch) and posts their parameters back in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildCases, loadCatalog, loadSuite, runFitTask, type FitTask } from './accuracy-lib.js';

const { root, tasks } = workerData as { root: string; tasks: FitTask[] };
const { catalog } = loadCatalog(root);
const { fitCases, trainCases } = buildCases(loadSuite(`${root}validation/cases`), catalog);
parentPort!.postMessage(tasks.map((t) => runFitTask(t, fitCases, trainCases)));
