/** A small horizontal bar chart (SVG built element by element): one bar per key, longest first. */
import { h, s, uid } from './dom.js';

export interface Bar {
  readonly label: string;
  readonly value: number;
}

const WIDTH = 640;
const ROW = 26;
const LABEL = 190;
const VALUE = 70;

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export function barChart(title: string, bars: readonly Bar[], caption: string): HTMLElement {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = bars.length * ROW + 8;
  const titleId = uid('chart-title');
  return h(
    'figure',
    { class: 'chart' },
    s(
      'svg',
      { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-labelledby': titleId, preserveAspectRatio: 'xMinYMin meet' },
      s('title', { id: titleId }, title),
      bars.map((bar, i) => {
        const y = i * ROW + 4;
        const width = Math.max(2, ((WIDTH - LABEL - VALUE) * bar.value) / max);
        return s(
          'g',
          {},
          s('text', { class: 'label', x: LABEL - 8, y: y + 16, 'text-anchor': 'end' }, clip(bar.label, 28)),
          s('rect', { class: 'bar', x: LABEL, y: y + 3, width: width.toFixed(1), height: ROW - 8, rx: 3 }),
          s('text', { class: 'value', x: (LABEL + width + 6).toFixed(1), y: y + 16 }, bar.value.toLocaleString()),
        );
      }),
    ),
    h('figcaption', {}, caption),
  );
}
