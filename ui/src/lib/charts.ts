// Chart configurations built from analysis data and the current theme. Pure: chart.js is
// only imported for its types here; `Chart.svelte` registers and draws.
import type { ChartConfiguration, TooltipItem } from 'chart.js';
import { formatClock, formatPercent, type TalkBar, type Timeline, type TimelinePoint } from './analysis';

/** The colours charts use, read from the CSS variables of the current theme. */
export type ChartTheme = {
	text: string;
	muted: string;
	grid: string;
	surface: string;
	rep: string;
	other: string;
	/** One colour per timeline category, in `TIMELINE_CATEGORIES` order. */
	series: string[];
	reducedMotion: boolean;
};

/** Used when CSS variables cannot be read (tests, very early rendering). */
export const FALLBACK_THEME: ChartTheme = {
	text: '#1b1f24',
	muted: '#515965',
	grid: '#d3d8df',
	surface: '#ffffff',
	rep: '#0b57c5',
	other: '#6b7480',
	series: ['#0b57c5', '#8a4baf', '#ac2317', '#17692f'],
	reducedMotion: false
};

/** Reads the theme from CSS variables on `root` (see app.css). */
export function readTheme(root: Element, reducedMotion: boolean): ChartTheme {
	const style = getComputedStyle(root);
	const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
	const f = FALLBACK_THEME;
	return {
		text: v('--text', f.text),
		muted: v('--text-muted', f.muted),
		grid: v('--border', f.grid),
		surface: v('--surface', f.surface),
		rep: v('--chart-rep', f.rep),
		other: v('--chart-other', f.other),
		series: [1, 2, 3, 4].map((i) => v(`--chart-${i}`, f.series[i - 1])),
		reducedMotion
	};
}

function base(theme: ChartTheme) {
	return {
		responsive: true,
		maintainAspectRatio: false,
		animation: theme.reducedMotion ? (false as const) : { duration: 200 },
		color: theme.text
	};
}

/** Horizontal bars: each speaker's share of the talk; the rep in the accent colour. */
export function talkChartConfig(bars: TalkBar[], theme: ChartTheme): ChartConfiguration<'bar'> {
	return {
		type: 'bar',
		data: {
			labels: bars.map((b) => (b.isRep ? `${b.name} (rep)` : b.name)),
			datasets: [
				{
					label: 'Talk share',
					data: bars.map((b) => b.share),
					backgroundColor: bars.map((b) => (b.isRep ? theme.rep : theme.other)),
					borderRadius: 3,
					maxBarThickness: 22
				}
			]
		},
		options: {
			...base(theme),
			indexAxis: 'y',
			plugins: {
				legend: { display: false },
				tooltip: {
					callbacks: {
						label: (item: TooltipItem<'bar'>) => `Talk share: ${formatPercent(item.parsed.x, 1)}`
					}
				}
			},
			scales: {
				x: {
					min: 0,
					max: 100,
					ticks: { color: theme.muted, callback: (value) => `${value}%` },
					grid: { color: theme.grid }
				},
				y: { ticks: { color: theme.text }, grid: { display: false } }
			}
		}
	};
}

const POINT_STYLES = ['circle', 'rect', 'triangle', 'rectRot'] as const;

/** A scatter of tracker hits: x is time (or turn), y is the category. */
export function timelineChartConfig(
	timeline: Timeline,
	theme: ChartTheme
): ChartConfiguration<'scatter', TimelinePoint[]> {
	const labels = timeline.series.map((s) => s.label);
	const formatX = (x: number) => (timeline.basis === 'seconds' ? formatClock(x) : `turn ${x}`);
	return {
		type: 'scatter',
		data: {
			datasets: timeline.series.map((s, i) => ({
				label: s.label,
				data: s.points,
				backgroundColor: theme.series[i % theme.series.length],
				borderColor: theme.series[i % theme.series.length],
				pointStyle: POINT_STYLES[i % POINT_STYLES.length],
				pointRadius: 5,
				pointHoverRadius: 7
			}))
		},
		options: {
			...base(theme),
			parsing: false,
			plugins: {
				legend: { display: false },
				tooltip: {
					callbacks: {
						title: (items: TooltipItem<'scatter'>[]) => {
							const p = items[0]?.raw as TimelinePoint | undefined;
							return p ? `${labels[p.y]} · ${formatX(p.x)} · ${p.speaker}` : '';
						},
						label: (item: TooltipItem<'scatter'>) => {
							const p = item.raw as TimelinePoint;
							return `“${p.term}”: ${p.sentence}`;
						}
					}
				}
			},
			scales: {
				x: {
					type: 'linear',
					min: timeline.basis === 'seconds' ? 0 : 1,
					max: Math.max(timeline.xMax, 1),
					title: {
						display: true,
						text: timeline.basis === 'seconds' ? 'Time into the call' : 'Turn',
						color: theme.muted
					},
					ticks: { color: theme.muted, callback: (value) => formatX(Number(value)) },
					grid: { color: theme.grid }
				},
				y: {
					type: 'linear',
					min: -0.5,
					max: labels.length - 0.5,
					reverse: true,
					afterBuildTicks: (axis) => {
						axis.ticks = labels.map((_, value) => ({ value }));
					},
					ticks: {
						color: theme.text,
						callback: (value) => labels[Number(value)] ?? ''
					},
					grid: { color: theme.grid }
				}
			}
		}
	};
}
