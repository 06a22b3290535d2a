/**
 * What depends only on a model, a format or a device is computed once per object and reused:
 * plan, sweep and the simulator estimate many configurations of one model, and a search should
 * not rebuild the model's tensor layout, its KV layers or a device's peak for each. Keys are the
 * objects themselves (a resolved ModelSpec, Format or HardwareSpec is not changed once built),
 * held weakly; results are shared, so callers treat them as read-only.
 */

export function once<A extends object, R>(f: (a: A) => R): (a: A) => R {
  const cache = new WeakMap<A, R>();
  return (a) => {
    let r = cache.get(a);
    if (r === undefined) cache.set(a, (r = f(a)));
    return r;
  };
}

export function once2<A extends object, B extends object, R>(f: (a: A, b: B) => R): (a: A, b: B) => R {
  const cache = new WeakMap<A, WeakMap<B, R>>();
  return (a, b) => {
    let byB = cache.get(a);
    if (!byB) cache.set(a, (byB = new WeakMap()));
    let r = byB.get(b);
    if (r === undefined) byB.set(b, (r = f(a, b)));
    return r;
  };
}

export function once3<A extends object, B extends object, C extends object, R>(f: (a: A, b: B, c: C) => R): (a: A, b: B, c: C) => R {
  const cache = new WeakMap<A, WeakMap<B, WeakMap<C, R>>>();
  return (a, b, c) => {
    let byB = cache.get(a);
    if (!byB) cache.set(a, (byB = new WeakMap()));
    let byC = byB.get(b);
    if (!byC) byB.set(b, (byC = new WeakMap()));
    let r = byC.get(c);
    if (r === undefined) byC.set(c, (r = f(a, b, c)));
    return r;
  };
}

/**
 * f(a, x, y) for numbers x and y, remembering its last answer per object: a search re-times one
 * request shape at many batch sizes and asks for the same (x, y) of a model again and again.
 */
export function lastPerObject<A extends object>(f: (a: A, x: number, y: number) => number): (a: A, x: number, y: number) => number {
  const last = new WeakMap<A, { x: number; y: number; r: number }>();
  return (a, x, y) => {
    const l = last.get(a);
    if (l !== undefined && l.x === x && l.y === y) return l.r;
    const r = f(a, x, y);
    if (l !== undefined) {
      l.x = x;
      l.y = y;
      l.r = r;
    } else last.set(a, { x, y, r });
    return r;
  };
}
