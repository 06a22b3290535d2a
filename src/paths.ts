/**
 * The package's root folder, wherever the running code sits: compiled (dist/src/...), bundled
 * (dist/bundle/...) or as TypeScript source under test (src/...).
 */
export function packageRoot(): URL {
  const here = import.meta.url;
  const dist = here.lastIndexOf('/dist/');
  return dist >= 0 ? new URL(here.slice(0, dist + 1)) : new URL('../', here);
}
