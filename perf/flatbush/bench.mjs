// The flatbush-style workload (flatbush's own bench.js shape) for perf/run W2F, on the same
// seeded data as perf/rtree_bench.cc's W2F rows: n boxes in [0, 100]^2 with sides up to 1,
// then 1000 box queries each of 10%, 1% and 0.01% of the area. Prints one JSON object of
// median milliseconds per phase.
//
//   node perf/flatbush/bench.mjs [n] [repetitions]
import Flatbush from 'flatbush';

const n = Number(process.argv[2] ?? 100000);
const reps = Number(process.argv[3] ?? 9);
const K = 1000;

// mulberry32, the generator perf/rtree_bench.cc's FlatbushData replicates bit for bit.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(20261122);
function addRandomBox(arr, boxSize) {
  const x = rand() * (100 - boxSize);
  const y = rand() * (100 - boxSize);
  const x2 = x + rand() * boxSize;
  const y2 = y + rand() * boxSize;
  arr.push(x, y, x2, y2);
}
const coords = [];
for (let i = 0; i < n; i++) addRandomBox(coords, 1);
const queries = {pct10: [], pct1: [], pct001: []};
for (let i = 0; i < K; i++) {
  addRandomBox(queries.pct10, 100 * Math.sqrt(0.1));
  addRandomBox(queries.pct1, 10);
  addRandomBox(queries.pct001, 1);
}

function build() {
  const index = new Flatbush(n, 16);
  for (let i = 0; i < coords.length; i += 4) {
    index.add(coords[i], coords[i + 1], coords[i + 2], coords[i + 3]);
  }
  index.finish();
  return index;
}
function search(index, boxes) {
  let hits = 0;
  for (let i = 0; i < boxes.length; i += 4) {
    hits += index.search(boxes[i], boxes[i + 1], boxes[i + 2], boxes[i + 3]).length;
  }
  return hits;
}
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function time(fn) {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
}

build();  // warm the JIT
const result = {n, flatbush_version: '4.7.0'};
const builds = [];
let index;
for (let r = 0; r < reps; r++) {
  const [ms, idx] = time(build);
  builds.push(ms);
  index = idx;
}
result.build_ms = median(builds);
for (const [name, boxes] of Object.entries(queries)) {
  search(index, boxes);  // warm
  const times = [];
  let hits = 0;
  for (let r = 0; r < reps; r++) {
    const [ms, h] = time(() => search(index, boxes));
    times.push(ms);
    hits = h;
  }
  result[`search_${name}_ms`] = median(times);
  result[`search_${name}_hits`] = hits;
}
console.log(JSON.stringify(result));
