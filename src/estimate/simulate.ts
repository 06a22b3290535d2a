import type { ModelSpec } from '../inputs/model.js';
import { prefillKeys } from './flops.js';
import { kvLayerTokens, layerSplit } from './memory.js';
import { dpGroups } from './parallel.js';
import type { StepContents, StepModel } from './step.js';
import { arrivalTimes, lengthSampler, seededRandom, type Traffic } from './workload.js';

/**
 * A discrete-event simulation of one deployment serving a stream of requests, step by step as a
 * continuous-batching engine runs them (Orca, Yu et al. 2022; vLLM V1's scheduler; SGLang's):
 *
 * - Each engine step carries the running decodes (one token each) and prompt tokens, within the
 *   engine's limits: at most maxNumSeqs running sequences, at most maxBatchedTokens tokens per
 *   step. decode-first engines (vLLM V1, TensorRT-LLM, llama.cpp) give every running decode its
 *   token and fill the rest of the budget with prompt chunks; prefill-first engines (SGLang) run
 *   a prompt batch alone whenever one can start, and the decodes wait.
 * - A prompt is admitted (first come, first served) when the KV cache can hold all of it
 *   (vLLM's block manager can_allocate), and for a hybrid model its recurrent state too: blocks
 *   of the same pool (vLLM's hybrid allocator) or a slot of the state pool (SGLang's mamba pool,
 *   which caps the running sequences); KV grows a block at a time as sequences decode. When a
 *   decode step needs a block and none is free, the most recently admitted sequence is preempted
 *   and recomputed later from its prompt and the tokens it had (vLLM's default recompute mode).
 * - The time of every step comes from the deployment's step model (step.ts), the one `estimate`
 *   uses, at the step's own shape: decodes at their contexts, prompt chunks with the keys they
 *   attend. Nothing is fitted here.
 *
 * The loop is over steps, not tokens: decoding sequences advance together, so a step costs
 * O(1) plus the sequences that start or finish in it (their contexts are kept as sums).
 */

export interface Scheduler {
  /** running sequences at most (vLLM max_num_seqs) */
  maxNumSeqs: number;
  /** tokens per step at most, decodes and prompt chunks together (vLLM max_num_batched_tokens) */
  maxBatchedTokens: number;
  /** whether a prompt may be split over steps */
  chunkedPrefill: boolean;
  policy: 'decode-first' | 'prefill-first';
  /**
   * Decode steps planned at once (vLLM V0 multi-step scheduling, --num-scheduler-steps): the
   * running decodes take this many steps before the queue is looked at again, and each
   * sequence's tokens of the group reach the client together at its end. Absent or 1: every
   * step is scheduled and streamed.
   */
  stepsPerSchedule?: number;
  /**
   * Attention data parallelism: how requests reach the groups' schedulers, in turn
   * (`round-robin`, SGLang) or to the group holding the fewest (`fewest`, vLLM). Absent = fewest.
   */
  dispatch?: 'round-robin' | 'fewest';
}

/** The requests a simulation serves, in arrival order (or dispatch order, closed loop). */
export interface Requests {
  input: Int32Array;
  output: Int32Array;
  /** arrival times, s; absent = closed loop (each client sends its next request when one ends) */
  arrival?: Float64Array;
}

export interface Deployment {
  step: StepModel;
  model: ModelSpec;
  /** KV-cache tokens one replica holds (memory.kvCapacityTokens) */
  kvCapacityTokens: number;
  /** tokens per KV block (the engine's block size) */
  blockTokens: number;
  /**
   * Hybrid models: sequences a separate recurrent-state pool holds (SGLang's mamba pool,
   * capacity.stateSlots); a sequence takes a slot from admission to its end. Absent = no limit.
   */
  stateSlots?: number;
  /**
   * Hybrid models whose state shares the KV pool (vLLM's hybrid allocator): blocks of that pool
   * one sequence's state takes from admission to its end (capacity.stateBlocks). Absent = 0.
   */
  stateBlocks?: number;
  /** the engine's limits; with attention data parallelism, those of one group's scheduler */
  scheduler: Scheduler;
  replicas: number;
  /** stop (throw SimulationTooLong) past this many steps on one replica; default unlimited */
  maxSteps?: number;
}

/** Thrown when a replica runs past Deployment.maxSteps. */
export class SimulationTooLong extends Error {}

/** What happened to each request, and to the engines, over the run. Times in seconds. */
export interface SimulationRun {
  ttft: Float64Array;
  e2e: Float64Array;
  /** (e2e - ttft) / (output - 1); NaN for one-token outputs */
  tpot: Float64Array;
  /** inter-token gaps, every token after a request's first */
  itl: LogHistogram;
  /** first arrival to last completion */
  durationSeconds: number;
  outputTokens: number;
  steps: number;
  preemptions: number;
  /** sampled over time (the first replica's clock; sums over replicas) */
  series: { time: number[]; waiting: number[]; running: number[]; kvUsedFraction: number[] };
  /** largest running batch seen in any step */
  peakRunning: number;
}

/**
 * Counts of positive values in logarithmic bins 0.1% wide (1e-7 s to 1e6 s): percentiles of
 * inter-token gaps, of which a long run has millions, within 0.05% without storing them.
 */
export class LogHistogram {
  static readonly LOW = 1e-7;
  static readonly RATIO = 1.001;
  static readonly BINS = Math.ceil(Math.log(1e13) / Math.log(LogHistogram.RATIO)) + 1;
  counts = new Float64Array(LogHistogram.BINS);
  total = 0;
  private static readonly SCALE = 1 / Math.log(LogHistogram.RATIO);
  add(value: number, weight: number): void {
    const bin = value <= LogHistogram.LOW ? 0 : Math.min(LogHistogram.BINS - 1, Math.floor(Math.log(value / LogHistogram.LOW) * LogHistogram.SCALE));
    this.counts[bin] += weight;
    this.total += weight;
  }
  merge(other: LogHistogram): void {
    for (let i = 0; i < other.counts.length; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
  }
  /** The p-th percentile (0..100): the geometric middle of the bin where the cumulative count reaches p%. */
  percentile(p: number): number {
    if (this.total <= 0) return 0;
    const goal = (p / 100) * this.total;
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i];
      if (acc >= goal - 1e-9 * this.total && this.counts[i] > 0) return LogHistogram.LOW * Math.pow(LogHistogram.RATIO, i + 0.5);
    }
    return 0;
  }
}

/** Min-heap of (key, id) with lazy deletion by the caller. */
class Heap {
  private keys: number[] = [];
  private ids: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  peekKey(): number {
    return this.keys[0];
  }
  push(key: number, id: number): void {
    const { keys, ids } = this;
    let i = keys.length;
    keys.push(key);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= key) break;
      keys[i] = keys[parent];
      ids[i] = ids[parent];
      i = parent;
    }
    keys[i] = key;
    ids[i] = id;
  }
  pop(): number {
    const { keys, ids } = this;
    const top = ids[0];
    const lastKey = keys.pop()!;
    const lastId = ids.pop()!;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && keys[child + 1] < keys[child]) child++;
        if (keys[child] >= lastKey) break;
        keys[i] = keys[child];
        ids[i] = ids[child];
        i = child;
      }
      keys[i] = lastKey;
      ids[i] = lastId;
    }
    return top;
  }
}

/** Samples of the engine state over time, at most ~2 x `target` points (halved as the run grows). */
class Series {
  time: number[] = [];
  waiting: number[] = [];
  running: number[] = [];
  kv: number[] = [];
  private interval = 1e-3;
  private next = 0;
  constructor(private readonly target = 200) {}
  add(t: number, waiting: number, running: number, kv: number): void {
    if (t < this.next) return;
    this.time.push(t);
    this.waiting.push(waiting);
    this.running.push(running);
    this.kv.push(kv);
    this.next = t + this.interval;
    if (this.time.length >= 2 * this.target) {
      const keep = (a: number[]) => a.filter((_, i) => i % 2 === 0);
      this.time = keep(this.time);
      this.waiting = keep(this.waiting);
      this.running = keep(this.running);
      this.kv = keep(this.kv);
      this.interval *= 2;
    }
  }
}

const WAITING = 1;
const PREFILLING = 2;
const DECODING = 3;
const DONE = 4;
const ENDING = 5; // multi-step: its last token is computed, delivered at the group's end

interface ReplicaResult {
  itl: LogHistogram;
  steps: number;
  preemptions: number;
  series: Series;
  peakRunning: number;
  end: number;
}

/**
 * Request indices waiting in one scheduler's queue, open at both ends (preempted requests go back
 * to the front: vLLM prepend_request), grown as needed.
 */
class Deque {
  private buf: Int32Array;
  private head = 0;
  length = 0;
  constructor(capacity: number) {
    this.buf = new Int32Array(Math.max(2, capacity));
  }
  private grow(): void {
    const grown = new Int32Array(this.buf.length * 2);
    for (let i = 0; i < this.length; i++) grown[i] = this.buf[(this.head + i) % this.buf.length];
    this.buf = grown;
    this.head = 0;
  }
  pushBack(j: number): void {
    if (this.length === this.buf.length) this.grow();
    this.buf[(this.head + this.length) % this.buf.length] = j;
    this.length++;
  }
  pushFront(j: number): void {
    if (this.length === this.buf.length) this.grow();
    this.head = (this.head - 1 + this.buf.length) % this.buf.length;
    this.buf[this.head] = j;
    this.length++;
  }
  front(): number {
    return this.buf[this.head];
  }
  popFront(): number {
    const j = this.buf[this.head];
    this.head = (this.head + 1) % this.buf.length;
    this.length--;
    return j;
  }
}

/**
 * Serves `ids` (indices into `req`, in arrival order) on one replica; writes each request's
 * first-token and finish times into `firstToken` and `finish`.
 *
 * With attention data parallelism (layout dpAttention > 1) each attention group schedules its
 * own requests, as the engines' data-parallel ranks do (SGLang: one scheduler per DP rank, fed by
 * its DP controller; TensorRT-LLM attention DP: requests distributed over the ranks; vLLM: one
 * engine core per DP rank): its own queue, its share of the KV cache, the scheduler limits of
 * one rank, its own prompts and decodes. A request goes to the groups in turn or to the one
 * holding the fewest, as the engine dispatches (Scheduler.dispatch). The groups step
 * together, since the MoE layers between their attention layers take every group's tokens, so a
 * step lasts as long as its busiest group's (step.ts groupStepSeconds): a group prefilling a
 * prompt holds back every group's decodes (TensorRT-LLM's ADP balance blog,
 * docs/source/blogs/tech_blog/blog10_ADP_Balance_Strategy.md).
 */
function runReplica(d: Deployment, req: Requests, ids: Int32Array, clients: number, firstToken: Float64Array, finish: Float64Array, arrivalOut: Float64Array): ReplicaResult {
  const { step, model, scheduler: sch } = d;
  const maxSteps = d.maxSteps ?? Infinity;
  const n = ids.length;
  const block = Math.max(1, d.blockTokens);
  const dp = step.layout ? Math.max(1, dpGroups(step.layout)) : 1;
  // One scheduler's KV blocks and state slots: its group's share of the replica's. Its limits
  // (maxNumSeqs, maxBatchedTokens) are d.scheduler's, which with attention DP are one group's
  // (simulation.ts: the engine's flags per rank, or divided over the ranks as SGLang does).
  const totalBlocks = Math.floor(d.kvCapacityTokens / block / dp);
  const maxRunning = Math.min(sch.maxNumSeqs, d.stateSlots === undefined ? Infinity : dp === 1 ? d.stateSlots : Math.max(1, Math.floor(d.stateSlots / dp)));
  const stepBudget = sch.maxBatchedTokens;
  const { full, local, window } = layerSplit(model);
  const sliding = local > 0 && Number.isFinite(window);
  const blocksFor = (tokens: number) => Math.ceil(tokens / block);
  // A sequence holds its KV blocks plus, for a hybrid model, its state: blocks of the shared pool
  // or a slot of the state pool, so admission stops at whichever runs out first.
  const stateBlocks = d.stateBlocks ?? 0;
  const heldFor = (tokens: number) => blocksFor(tokens) + stateBlocks;

  const input = new Int32Array(n);
  const output = new Int32Array(n);
  const arrival = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    input[j] = req.input[ids[j]];
    output[j] = req.output[ids[j]];
    arrival[j] = req.arrival ? req.arrival[ids[j]] : 0;
  }
  const state = new Uint8Array(n);
  const generated = new Int32Array(n);
  const target = new Int32Array(n); // prompt tokens of the current prefill (input + generated)
  const computed = new Int32Array(n); // of those, computed so far
  const held = new Int32Array(n); // KV blocks held
  const base = new Float64Array(n); // decoding: context at its group's decode step G is base + G
  const finishAt = new Float64Array(n); // decoding: the decode step of the last token
  const lastToken = new Float64Array(n);
  const joinedAt = new Float64Array(n); // decoding: G when it joined
  const belowWindow = new Uint8Array(sliding ? n : 0);

  let now = 0;
  let nextArrival = 0; // open loop: index of the next request to arrive
  let dispatched = 0; // closed loop: requests sent so far
  const itl = new LogHistogram();
  const series = new Series();
  let steps = 0;
  let preemptions = 0;
  let peakRunning = 0;
  let doneCount = 0;
  // Multi-step scheduling (vLLM V0 --num-scheduler-steps k, vllm/engine/llm_engine.py and
  // vllm/worker/multi_step_model_runner.py @ v0.6.0): decode-only steps run in groups of k with
  // nothing admitted in between; a sequence's tokens of a group reach the client at its end as
  // one streamed chunk (one inter-token gap), and a sequence that ends inside the group is
  // delivered then. Prompts still run as single steps between groups.
  const stepGroup = Math.max(1, sch.stepsPerSchedule ?? 1);
  const residue = (b: number) => (((b % block) + block) % block);

  /** One scheduler: the replica's, or one attention group's. */
  const makeScheduler = () => {
    // Waiting queue; preempted requests go back to its front (vLLM prepend_request).
    const queue = new Deque(dp === 1 ? n + 1 : 16);
    // Running sequences in admission order (for preemption: newest first), lazily cleaned.
    let runningOrder = new Int32Array(Math.max(16, dp === 1 ? n : 16));
    let runningLength = 0;
    let running = 0;
    // Prompts being prefilled, in admission order.
    let prefillQueue: number[] = [];
    let prefillHead = 0;
    // Decoding sequences as sums: count, sum of base contexts, KV blocks due per residue.
    let decoders = 0;
    let sumBase = 0;
    const due = new Int32Array(block);
    let belowCount = 0; // sliding windows: decoders whose context is still under the window
    let belowSumBase = 0;
    const finishes = new Heap();
    const crossings = new Heap();
    let G = 0; // decode steps done
    let usedBlocks = 0;
    let lastDecodeEnd = 0;
    let groupLeft = 0;
    const ending: number[] = [];
    let joinTimes: number[] = []; // prefill completions since the last decode step, and how many
    let joinCounts: number[] = [];
    // this loop turn: the queue's length before anything ran, and whether prompts are under way
    let waiting = 0;
    let prefilling = false;
    // the planned step: whether the decodes run, and the prompt chunks it carries
    let runDecode = false;
    let tokens = 0;
    const chunkIds: number[] = [];
    const chunkSizes: number[] = [];
    const contents: StepContents = { decodeSequences: 0, decodeKvLayerTokens: 0, prefillTokens: 0, prefillKeys: 0, prefillKvLayerTokens: 0, prefillLogits: 0 };

    const addDecoder = (j: number) => {
      // first decode step is G + 1, attending input + generated keys
      base[j] = input[j] + generated[j] - G - 1;
      joinedAt[j] = G;
      finishAt[j] = G + output[j] - generated[j];
      decoders++;
      sumBase += base[j];
      due[residue(base[j])]++;
      finishes.push(finishAt[j], j);
      if (sliding) {
        const cross = window - base[j];
        if (G + 1 < cross) {
          belowWindow[j] = 1;
          belowCount++;
          belowSumBase += base[j];
          crossings.push(cross, j);
        } else belowWindow[j] = 0;
      }
      state[j] = DECODING;
    };
    const removeDecoder = (j: number) => {
      // its KV: the prompt, then a block whenever its context crossed into a new one
      held[j] = heldFor(base[j] + G);
      decoders--;
      sumBase -= base[j];
      due[residue(base[j])]--;
      if (sliding && belowWindow[j]) {
        belowWindow[j] = 0;
        belowCount--;
        belowSumBase -= base[j];
      }
    };
    const release = (j: number) => {
      usedBlocks -= held[j];
      held[j] = 0;
      running--;
    };
    const finishRequest = (j: number) => {
      state[j] = DONE;
      finish[ids[j]] = now;
      release(j);
      doneCount++;
      if (!req.arrival && dispatched < n) {
        // closed loop: this client sends its next request now
        arrival[dispatched] = now;
        arrivalOut[ids[dispatched]] = now;
        dispatch(dispatched++);
      }
    };
    /** End of a multi-step group: each running decode's tokens reach the client as one chunk. */
    const deliverGroup = () => {
      let kept = 0;
      for (let r = 0; r < runningLength; r++) {
        const j = runningOrder[r];
        if (state[j] === DECODING) {
          itl.add(now - lastToken[j], 1);
          lastToken[j] = now;
        }
        if (state[j] === DECODING || state[j] === PREFILLING) runningOrder[kept++] = j;
      }
      runningLength = kept;
      for (const j of ending) {
        itl.add(now - lastToken[j], 1);
        lastToken[j] = now;
        finishRequest(j);
      }
      ending.length = 0;
      groupLeft = 0;
    };
    /** Preempts the most recently admitted running sequence; false when none is left. */
    const preemptNewest = (): boolean => {
      while (runningLength > 0) {
        const j = runningOrder[--runningLength];
        if (state[j] !== DECODING && state[j] !== PREFILLING) continue;
        if (state[j] === DECODING) {
          removeDecoder(j);
          // tokens generated so far: the last one is not in the KV cache yet
          generated[j] = output[j] - (finishAt[j] - G);
          if (G > joinedAt[j]) lastToken[j] = lastDecodeEnd;
        }
        release(j);
        computed[j] = 0;
        state[j] = WAITING;
        queue.pushFront(j);
        preemptions++;
        return true;
      }
      return false;
    };
    const decodeKvLayerTokens = () => full * (sumBase + decoders * (G + 1)) + (sliding ? local * (belowSumBase + belowCount * (G + 1) + window * (decoders - belowCount)) : local * (sumBase + decoders * (G + 1)));

    return {
      contents,
      enqueue(j: number): void {
        state[j] = WAITING;
        queue.pushBack(j);
      },
      /** requests in this scheduler, running or waiting */
      load: () => running + queue.length,
      running: () => running,
      waitingNow: () => queue.length,
      usedBlocks: () => usedBlocks,
      /** Start of a loop turn: whether anything is running or waiting here. */
      prepare(): boolean {
        waiting = queue.length;
        while (prefillHead < prefillQueue.length && state[prefillQueue[prefillHead]] !== PREFILLING) prefillHead++;
        prefilling = prefillHead < prefillQueue.length;
        if (groupLeft > 0 && decoders === 0) deliverGroup(); // every sequence of the group has ended
        return decoders > 0 || prefilling || waiting > 0;
      },
      /**
       * A stretch of decode-only steps with nothing to admit (low load, or a full batch), run in a
       * tight loop up to the next event: a sequence finishing, an arrival or a window crossing.
       * True when it ran any step. (One scheduler per replica only: attention groups step together.)
       */
      decodeStretch(): boolean {
        if (!(stepGroup === 1 && waiting === 0 && !prefilling && decoders > 0 && joinTimes.length === 0)) return false;
        const lastStep = finishes.peekKey() - 1;
        const start = steps;
        contents.prefillTokens = 0;
        contents.prefillKeys = 0;
        contents.prefillKvLayerTokens = 0;
        contents.prefillLogits = 0;
        contents.decodeSequences = decoders;
        while (G < lastStep) {
          const need = due[residue(-G)];
          if (usedBlocks + need > totalBlocks) break;
          if (sliding && crossings.size > 0 && crossings.peekKey() <= G + 1) break;
          contents.decodeKvLayerTokens = full * (sumBase + decoders * (G + 1)) + local * (sliding ? belowSumBase + belowCount * (G + 1) + window * (decoders - belowCount) : sumBase + decoders * (G + 1));
          now += step.stepSeconds(contents);
          G++;
          if (++steps > maxSteps) throw new SimulationTooLong(`stopped after ${steps} engine steps`);
          usedBlocks += need;
          itl.add(now - lastDecodeEnd, decoders);
          lastDecodeEnd = now;
          series.add(now, 0, running, totalBlocks > 0 ? usedBlocks / totalBlocks : 0);
          if (req.arrival && nextArrival < n && arrival[nextArrival] <= now) break;
        }
        return steps > start;
      },
      /** Plans this scheduler's part of the next step (its contents); false when it has nothing to run. */
      plan(): boolean {
        // Can a prompt start or continue? (prefill-first runs prompt batches alone; inside a
        // multi-step group nothing starts)
        const inGroup = groupLeft > 0;
        const head0 = waiting > 0 && !inGroup ? queue.front() : -1;
        const canAdmit = head0 >= 0 && running < maxRunning && usedBlocks + heldFor(input[head0] + generated[head0]) <= totalBlocks;
        const prefillOnly = sch.policy === 'prefill-first' && !inGroup && (prefilling || canAdmit);
        let budget = stepBudget;

        // Decodes: one token each; a sequence crossing into a new block needs one. Preempt the newest
        // sequences until the step's blocks fit.
        runDecode = false;
        if (!prefillOnly && decoders > 0) {
          let blocksDue = due[residue(-G)];
          while (usedBlocks + blocksDue > totalBlocks && preemptNewest()) blocksDue = decoders > 0 ? due[residue(-G)] : 0;
          if (decoders > 0) {
            runDecode = true;
            usedBlocks += blocksDue;
            budget -= decoders;
          }
        }

        // Prompt chunks: prompts being prefilled first, then new admissions, first come first served.
        chunkIds.length = 0;
        chunkSizes.length = 0;
        tokens = 0;
        let keys = 0;
        let kvWritten = 0;
        let logits = 0;
        const schedule = (j: number) => {
          const remaining = target[j] - computed[j];
          const size = Math.min(remaining, budget);
          chunkIds.push(j);
          chunkSizes.push(size);
          tokens += size;
          keys += prefillKeys(model, computed[j], computed[j] + size);
          kvWritten += kvLayerTokens(model, computed[j] + size) - kvLayerTokens(model, computed[j]);
          if (size === remaining) logits++;
          budget -= size;
        };
        if (!inGroup && (!runDecode || sch.policy === 'decode-first')) {
          for (let k = prefillHead; k < prefillQueue.length && budget > 0; k++) {
            const j = prefillQueue[k];
            if (state[j] === PREFILLING) schedule(j);
          }
          while (budget > 0 && queue.length > 0 && running < maxRunning) {
            const j = queue.front();
            const prompt = input[j] + generated[j];
            if (!sch.chunkedPrefill && prompt > budget && (tokens > 0 || runDecode)) break;
            const need = heldFor(prompt);
            if (usedBlocks + need > totalBlocks) break;
            queue.popFront();
            state[j] = PREFILLING;
            target[j] = prompt;
            computed[j] = 0;
            held[j] = need;
            usedBlocks += need;
            running++;
            if (runningLength === runningOrder.length) {
              const grown = new Int32Array(runningOrder.length * 2);
              grown.set(runningOrder);
              runningOrder = grown;
            }
            runningOrder[runningLength++] = j;
            prefillQueue.push(j);
            if (!sch.chunkedPrefill) budget = Math.max(budget, prompt); // a lone prompt longer than the budget runs whole
            schedule(j);
          }
        }
        contents.decodeSequences = runDecode ? decoders : 0;
        contents.decodeKvLayerTokens = runDecode ? decodeKvLayerTokens() : 0;
        contents.prefillTokens = tokens;
        contents.prefillKeys = keys;
        contents.prefillKvLayerTokens = kvWritten;
        contents.prefillLogits = logits;
        return runDecode || tokens > 0;
      },
      /** After the step (now is its end): tokens out, sequences finished, prompts done. */
      commit(): void {
        if (runDecode) {
          G++;
          // a decode-only step of a multi-step engine belongs to a group: its tokens wait for the end
          const grouped = stepGroup > 1 && tokens === 0;
          if (grouped) {
            if (groupLeft === 0) groupLeft = stepGroup;
            groupLeft--;
          } else {
            // every decoder emitted a token: gaps since their previous one
            let joined = 0;
            for (let k = 0; k < joinTimes.length; k++) {
              itl.add(now - joinTimes[k], joinCounts[k]);
              joined += joinCounts[k];
            }
            if (decoders - joined > 0) itl.add(now - lastDecodeEnd, decoders - joined);
          }
          joinTimes = [];
          joinCounts = [];
          lastDecodeEnd = now;
          if (sliding) {
            while (crossings.size > 0 && crossings.peekKey() <= G + 1) {
              const j = crossings.pop();
              if (state[j] === DECODING && belowWindow[j] && window - base[j] <= G + 1) {
                belowWindow[j] = 0;
                belowCount--;
                belowSumBase -= base[j];
              }
            }
          }
          while (finishes.size > 0 && finishes.peekKey() <= G) {
            const j = finishes.pop();
            if (state[j] !== DECODING || finishAt[j] !== G) continue;
            removeDecoder(j);
            if (grouped) {
              state[j] = ENDING;
              ending.push(j);
              continue;
            }
            lastToken[j] = now;
            finishRequest(j);
          }
          if (grouped && groupLeft === 0) deliverGroup();
        }
        for (let k = 0; k < chunkIds.length; k++) {
          const j = chunkIds[k];
          computed[j] += chunkSizes[k];
          if (computed[j] < target[j]) continue;
          // prompt done: it samples a token
          generated[j]++;
          if (generated[j] === 1) firstToken[ids[j]] = now;
          else itl.add(now - lastToken[j], 1); // a recomputed sequence's gap
          lastToken[j] = now;
          if (generated[j] >= output[j]) {
            finishRequest(j);
            continue;
          }
          addDecoder(j);
          if (joinTimes.length && joinTimes[joinTimes.length - 1] === now) joinCounts[joinCounts.length - 1]++;
          else {
            joinTimes.push(now);
            joinCounts.push(1);
          }
        }
        chunkIds.length = 0;
        runDecode = false;
        if (prefillHead > 4096 && prefillHead * 2 > prefillQueue.length) {
          prefillQueue = prefillQueue.slice(prefillHead);
          prefillHead = 0;
        }
      },
    };
  };
  const schedulers = Array.from({ length: dp }, makeScheduler);
  // A request goes to the next scheduler in turn (round-robin), or to the one holding the fewest
  // requests, running and waiting (the first on ties).
  let turn = 0;
  function dispatch(j: number): void {
    if (sch.dispatch === 'round-robin') {
      schedulers[turn].enqueue(j);
      turn = (turn + 1) % dp;
      return;
    }
    let best = schedulers[0];
    for (let g = 1; g < dp; g++) if (schedulers[g].load() < best.load()) best = schedulers[g];
    best.enqueue(j);
  }
  const sumOf = (f: (s: (typeof schedulers)[number]) => number) => schedulers.reduce((a, s) => a + f(s), 0);
  const groupContents = schedulers.map((s) => s.contents);

  if (!req.arrival) {
    for (; dispatched < Math.min(clients, n); dispatched++) {
      arrivalOut[ids[dispatched]] = 0;
      dispatch(dispatched);
    }
  }

  while (doneCount < n) {
    if (req.arrival) {
      while (nextArrival < n && arrival[nextArrival] <= now) dispatch(nextArrival++);
    }
    let busy = false;
    for (const s of schedulers) if (s.prepare()) busy = true;
    if (!busy) {
      if (req.arrival && nextArrival < n) {
        now = Math.max(now, arrival[nextArrival]);
        continue;
      }
      break; // nothing left (closed loop with every client done)
    }
    if (dp === 1 && schedulers[0].decodeStretch()) continue;

    let planned = false;
    for (const s of schedulers) if (s.plan()) planned = true;
    if (!planned) {
      // Nothing can run: the next event is an arrival (or the KV cache is too small for the head).
      if (req.arrival && nextArrival < n) {
        now = Math.max(now, arrival[nextArrival]);
        continue;
      }
      throw new Error('internal: simulation stalled with requests waiting and nothing running');
    }

    // The step's time, from the step model at this shape (attention groups: the busiest's).
    now += dp === 1 ? step.stepSeconds(groupContents[0]) : step.groupStepSeconds(groupContents);
    steps++;
    if (steps > maxSteps) throw new SimulationTooLong(`stopped after ${steps} engine steps`);
    const runningNow = dp === 1 ? schedulers[0].running() : sumOf((s) => s.running());
    if (runningNow > peakRunning) peakRunning = runningNow;
    for (const s of schedulers) s.commit();
    if (dp === 1) series.add(now, schedulers[0].waitingNow(), schedulers[0].running(), totalBlocks > 0 ? schedulers[0].usedBlocks() / totalBlocks : 0);
    else series.add(now, sumOf((s) => s.waitingNow()), sumOf((s) => s.running()), totalBlocks > 0 ? sumOf((s) => s.usedBlocks()) / (totalBlocks * dp) : 0);
  }
  return { itl, steps, preemptions, series, peakRunning, end: now };
}

/**
 * Draws `count` requests from the traffic, each capped at `maxContext` tokens in all (prompt
 * below it, output cut to fit), with arrival times at `qps` (open loop) or none (closed loop).
 * Returns how many were cut.
 */
export function drawRequests(traffic: Traffic, count: number, seed: number, maxContext: number, qps: number | undefined): { requests: Requests; truncated: number } {
  const random = seededRandom(seed);
  const inputDraw = lengthSampler(traffic.input, random);
  const outputDraw = lengthSampler(traffic.output, random);
  const input = new Int32Array(count);
  const output = new Int32Array(count);
  let truncated = 0;
  for (let i = 0; i < count; i++) {
    let a = inputDraw();
    let b = outputDraw();
    if (a + b > maxContext) {
      truncated++;
      a = Math.min(a, maxContext - 1);
      b = Math.max(1, Math.min(b, maxContext - a));
    }
    input[i] = a;
    output[i] = b;
  }
  const arrival = qps !== undefined || traffic.arrival?.kind === 'trace' ? arrivalTimes(traffic.arrival ?? { kind: 'poisson' }, qps, count, random) : undefined;
  return { requests: { input, output, arrival }, truncated };
}

/**
 * Serves the requests on `d.replicas` replicas, requests dealt round-robin (closed loop:
 * `clients` clients dealt the same way), and returns what each request saw.
 */
export function simulate(d: Deployment, req: Requests, clients = 0): SimulationRun {
  const n = req.input.length;
  const firstToken = new Float64Array(n);
  const finish = new Float64Array(n);
  const arrival = req.arrival ? req.arrival : new Float64Array(n);
  const itlAll = new LogHistogram();
  let steps = 0;
  let preemptions = 0;
  let peakRunning = 0;
  let series: Series | undefined;
  const others: Series[] = [];
  for (let r = 0; r < d.replicas; r++) {
    const count = Math.floor((n - r + d.replicas - 1) / d.replicas);
    if (count <= 0) continue;
    const ids = new Int32Array(count);
    for (let k = 0; k < count; k++) ids[k] = r + k * d.replicas;
    const share = Math.floor(clients / d.replicas) + (r < clients % d.replicas ? 1 : 0);
    const result = runReplica(d, req, ids, Math.max(1, share), firstToken, finish, arrival);
    itlAll.merge(result.itl);
    steps += result.steps;
    preemptions += result.preemptions;
    peakRunning = Math.max(peakRunning, result.peakRunning);
    if (!series) series = result.series;
    else others.push(result.series);
  }
  const ttft = new Float64Array(n);
  const e2e = new Float64Array(n);
  const tpot = new Float64Array(n);
  let outputTokens = 0;
  let first = Infinity;
  let last = 0;
  for (let i = 0; i < n; i++) {
    ttft[i] = firstToken[i] - arrival[i];
    e2e[i] = finish[i] - arrival[i];
    tpot[i] = req.output[i] > 1 ? (e2e[i] - ttft[i]) / (req.output[i] - 1) : NaN;
    outputTokens += req.output[i];
    first = Math.min(first, arrival[i]);
    last = Math.max(last, finish[i]);
  }
  // The engine state over time: the first replica's samples, with the others' added at the
  // same instants (each replica's last sample at or before it).
  const s = series ?? new Series();
  const waiting = [...s.waiting];
  const running = [...s.running];
  const kv = [...s.kv];
  for (const o of others) {
    let k = 0;
    s.time.forEach((t, i) => {
      while (k + 1 < o.time.length && o.time[k + 1] <= t) k++;
      if (o.time.length && o.time[k] <= t) {
        waiting[i] += o.waiting[k];
        running[i] += o.running[k];
        kv[i] += o.kv[k];
      }
    });
  }
  return {
    ttft,
    e2e,
    tpot,
    itl: itlAll,
    durationSeconds: Math.max(last - first, Number.MIN_VALUE),
    outputTokens,
    steps,
    preemptions,
    series: { time: s.time, waiting, running, kvUsedFraction: kv.map((x) => x / Math.max(1, d.replicas)) },
    peakRunning,
  };
}

/** The p-th percentile (0..100) of values, linearly interpolated (numpy's default, as vLLM's benchmark_serving reports). NaNs are left out. */
export function percentile(values: Float64Array, p: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort();
  if (!sorted.length) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}
