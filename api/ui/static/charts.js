// Charts of the reports page, drawn by the vendored uPlot (globalThis.uPlot): a stacked area of
// counts per day, and bars per category. Each chart fills its host's width and follows resizes.
const PALETTE = ['#64748b', '#2563eb', '#16a34a', '#ea580c', '#9333ea', '#dc2626', '#854d0e', '#0891b2'];
const STAGE_COLOURS = {
  reach: '#94a3b8', acquisition: '#2563eb', conversion: '#16a34a', retention: '#0d9488',
  loyalty: '#9333ea', at_risk: '#ea580c', lapsed: '#b91c1c', won_back: '#ca8a04',
};
const HEIGHT = 260;

export function colourOf(name, index) {
  return STAGE_COLOURS[name] || PALETTE[index % PALETTE.length];
}

function translucent(hex, alpha) {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function widthOf(host) {
  return Math.max(280, host.clientWidth);
}

function follow(host, chart) {
  new ResizeObserver(() => chart.setSize({ width: widthOf(host), height: HEIGHT })).observe(host);
  return chart;
}

const AXIS = { stroke: '#374151', grid: { stroke: '#e5e7eb' }, ticks: { stroke: '#d1d5db' } };

function day(ts) {
  return new Date(ts * 1e3).toISOString().slice(0, 10);
}

// Counts per day stacked bottom-up in the order given; the legend shows each series' own count on
// the day under the cursor, else on the last day.
export function stackedDays(host, days, series) {
  const { uPlot } = globalThis;
  const sums = days.map(() => 0);
  const stacked = series.map((s) => s.values.map((v, i) => (sums[i] += v)));
  const bands = series.slice(1).map((_, i) => ({ series: [i + 2, i + 1] }));
  const options = {
    width: widthOf(host),
    height: HEIGHT,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
    axes: [{ ...AXIS }, { ...AXIS, size: 50 }],
    series: [
      { label: 'Day', value: (u, ts) => day(ts ?? days[days.length - 1]) },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: s.colour,
        width: 1.5,
        fill: translucent(s.colour, 0.55),
        points: { show: days.length < 3 },
        value: (u, v, si, di) => String(series[si - 1].values[di ?? days.length - 1]),
      })),
    ],
    bands,
    cursor: { points: { show: false } },
  };
  return follow(host, new uPlot(options, [days, ...stacked], host));
}

// Bars per category (x: 0..n-1 labelled ``labels``); later series are drawn narrower, over earlier
// ones. The legend is a key (the numbers are in the table beside).
export function bars(host, labels, series, { money = false } = {}) {
  const { uPlot } = globalThis;
  const xs = labels.map((_, i) => i);
  const format = (v) => (v == null ? '–' : money ? v.toFixed(2) : String(v));
  const options = {
    width: widthOf(host),
    height: HEIGHT,
    scales: {
      x: { time: false, range: () => [-0.5, labels.length - 0.5] },
      y: { range: (u, min, max) => [0, max > 0 ? max * 1.15 : 1] },
    },
    axes: [
      { ...AXIS, splits: () => xs, values: (u, splits) => splits.map((i) => labels[i] ?? ''), grid: { show: false } },
      { ...AXIS, size: 56, values: (u, splits) => splits.map((v) => (money ? v.toFixed(2) : String(v))) },
    ],
    series: [
      { value: (u, v) => (v == null ? '–' : labels[v] ?? '') },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: s.colour,
        fill: translucent(s.colour, i === 0 ? 0.35 : 0.9),
        width: 1,
        paths: uPlot.paths.bars({ size: [i === 0 ? 0.7 : 0.45, 90], align: 0 }),
        points: { show: false },
        value: (u, v) => format(v),
      })),
    ],
    legend: { live: false },
    cursor: { points: { show: false }, x: false, y: false },
  };
  return follow(host, new uPlot(options, [xs, ...series.map((s) => s.values)], host));
}
