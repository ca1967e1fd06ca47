export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  readonly points: readonly { readonly at: number; readonly value: number }[];
}

interface LineChartProps {
  readonly title: string;
  readonly series: readonly ChartSeries[];
  /** The time span shown, in ms up to now. */
  readonly spanMs: number;
  readonly now: number;
  readonly width?: number;
  readonly height?: number;
}

const PAD = { left: 40, right: 8, top: 8, bottom: 20 };

/** A small SVG line chart over time (one y axis from 0 to the largest value). */
export function LineChart({ title, series, spanMs, now, width = 420, height = 140 }: LineChartProps) {
  const max = Math.max(1, ...series.flatMap((one) => one.points.map((point) => point.value)));
  const innerWidth = width - PAD.left - PAD.right;
  const innerHeight = height - PAD.top - PAD.bottom;
  const x = (at: number) => PAD.left + ((at - (now - spanMs)) / spanMs) * innerWidth;
  const y = (value: number) => PAD.top + innerHeight - (value / max) * innerHeight;
  const hours = Math.round(spanMs / 3_600_000);
  return (
    <figure className="chart">
      <svg width={width} height={height} role="img" aria-label={title}>
        <title>{title}</title>
        <line x1={PAD.left} y1={y(0)} x2={width - PAD.right} y2={y(0)} className="axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={y(0)} className="axis" />
        <text x={PAD.left - 4} y={PAD.top + 8} textAnchor="end" className="tick">
          {formatTick(max)}
        </text>
        <text x={PAD.left - 4} y={y(0)} textAnchor="end" className="tick">
          0
        </text>
        <text x={PAD.left} y={height - 4} className="tick">
          −{hours} h
        </text>
        <text x={width - PAD.right} y={height - 4} textAnchor="end" className="tick">
          now
        </text>
        {series.map((one) =>
          one.points.length === 0 ? null : (
            <polyline
              key={one.label}
              fill="none"
              stroke={one.color}
              strokeWidth={1.5}
              points={one.points
                .map((point) => `${x(point.at).toFixed(1)},${y(point.value).toFixed(1)}`)
                .join(" ")}
            />
          ),
        )}
      </svg>
      <figcaption>
        {series.map((one) => (
          <span key={one.label} className="legend">
            <span className="swatch" style={{ background: one.color }} /> {one.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

function formatTick(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)}k` : String(Math.round(value * 10) / 10);
}
