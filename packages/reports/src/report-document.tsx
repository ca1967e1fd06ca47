/** @jsxRuntime automatic @jsxImportSource react */
import { Circle, Document, Line, Page, Path, Rect, StyleSheet, Svg, Text, View } from "@react-pdf/renderer";
import type { ReportCopy } from "./report-copy.ts";
import { reportFontFamily } from "./report-fonts.ts";
import { type CheckupResults, levelOf, type ResultLevel } from "./results-contract.ts";

export interface ReportDocumentProps {
  readonly copy: ReportCopy;
  /** BCP 47 tag written into the PDF (`ru`, `en`). */
  readonly language: string;
  readonly userName: string | null;
  readonly checkupTitle: string;
  /** The checkup kind's name in the report's language. */
  readonly kindName: string;
  readonly completedOn: string;
  /** `null`: no scores to show (a kind we do not score, and the app saved nothing valid). */
  readonly results: CheckupResults | null;
  /** Written into the PDF's metadata; fixed per checkup so a re-render gives the same metadata. */
  readonly createdAt: Date;
}

const brand = { ink: "#1f2d3d", muted: "#6b7785", accent: "#2f7d6d", track: "#e6ecef", rule: "#d5dde2" };
const levelColour: Record<ResultLevel, string> = { low: "#d0644b", moderate: "#e0a43a", high: "#2f7d6d" };

const styles = StyleSheet.create({
  page: {
    fontFamily: reportFontFamily,
    fontSize: 10.5,
    color: brand.ink,
    paddingTop: 36,
    paddingBottom: 56,
    paddingHorizontal: 44,
  },
  header: {
    flexDirection: "row",
    alignItems: "center",
    borderBottomWidth: 1,
    borderBottomColor: brand.rule,
    paddingBottom: 10,
    marginBottom: 18,
  },
  brandName: { fontSize: 16, fontWeight: "bold", color: brand.accent, marginLeft: 8 },
  brandTagline: { fontSize: 9, color: brand.muted, marginLeft: "auto" },
  title: { fontSize: 20, fontWeight: "bold", marginBottom: 10 },
  meta: { flexDirection: "row", marginBottom: 3 },
  metaLabel: { width: 80, color: brand.muted },
  section: { fontSize: 13, fontWeight: "bold", marginTop: 18, marginBottom: 8 },
  overallRow: { flexDirection: "row", alignItems: "center", marginTop: 4 },
  overallText: { marginLeft: 14, flex: 1 },
  overallScore: { fontSize: 14, fontWeight: "bold" },
  chartRow: { flexDirection: "row", alignItems: "center", marginBottom: 7 },
  chartLabel: { width: 120 },
  chartValue: { width: 40, textAlign: "right", fontWeight: "bold" },
  item: { marginBottom: 8 },
  itemTitle: { fontWeight: "bold", marginBottom: 2 },
  disclaimer: { marginTop: 20, fontSize: 8.5, color: brand.muted },
  footer: {
    position: "absolute",
    bottom: 24,
    left: 44,
    right: 44,
    flexDirection: "row",
    fontSize: 8.5,
    color: brand.muted,
  },
  pageNumber: { marginLeft: "auto" },
});

const BAR_WIDTH = 300;
const BAR_HEIGHT = 14;

/** The Balansity mark: two balanced circles on a beam, drawn as vectors. */
function BrandMark() {
  return (
    <Svg width={26} height={22} viewBox="0 0 26 22">
      <Path d="M2 12 L24 12" stroke={brand.accent} strokeWidth={2} />
      <Circle cx={7} cy={7} r={4.5} fill={brand.accent} />
      <Circle cx={19} cy={7} r={4.5} fill="#8cc5b7" />
      <Path d="M13 12 L9 21 L17 21 Z" fill={brand.accent} />
    </Svg>
  );
}

/** One horizontal bar (0-100) with marks at the band limits 40 and 70. */
function ScoreBar({ value }: { readonly value: number }) {
  const filled = (BAR_WIDTH * value) / 100;
  return (
    <Svg width={BAR_WIDTH} height={BAR_HEIGHT} viewBox={`0 0 ${BAR_WIDTH} ${BAR_HEIGHT}`}>
      <Rect x={0} y={0} width={BAR_WIDTH} height={BAR_HEIGHT} rx={3} ry={3} fill={brand.track} />
      {filled > 0 ? (
        <Rect
          x={0}
          y={0}
          width={filled}
          height={BAR_HEIGHT}
          rx={3}
          ry={3}
          fill={levelColour[levelOf(value)]}
        />
      ) : null}
      {[40, 70].map((mark) => (
        <Line
          key={mark}
          x1={(BAR_WIDTH * mark) / 100}
          y1={0}
          x2={(BAR_WIDTH * mark) / 100}
          y2={BAR_HEIGHT}
          stroke="#ffffff"
          strokeWidth={1.2}
        />
      ))}
    </Svg>
  );
}

/** A ring filled to the overall score. */
function ScoreRing({ value, level }: { readonly value: number; readonly level: ResultLevel }) {
  const radius = 26;
  const angle = (Math.min(value, 99.9) / 100) * 2 * Math.PI;
  const x = 32 + radius * Math.sin(angle);
  const y = 32 - radius * Math.cos(angle);
  const largeArc = value > 50 ? 1 : 0;
  return (
    <Svg width={64} height={64} viewBox="0 0 64 64">
      <Circle cx={32} cy={32} r={radius} stroke={brand.track} strokeWidth={8} fill="none" />
      {value > 0 ? (
        <Path
          d={`M 32 ${32 - radius} A ${radius} ${radius} 0 ${largeArc} 1 ${x.toFixed(2)} ${y.toFixed(2)}`}
          stroke={levelColour[level]}
          strokeWidth={8}
          fill="none"
        />
      ) : null}
    </Svg>
  );
}

/** The checkup report: header with branding, who and what, the overall result, a chart and notes per category. */
export function ReportDocument(props: ReportDocumentProps) {
  const { copy, results } = props;
  return (
    <Document
      title={`${copy.documentTitle}: ${props.checkupTitle}`}
      author="Balansity"
      creator="Balansity"
      producer="Balansity"
      language={props.language}
      creationDate={props.createdAt}
      modificationDate={props.createdAt}
    >
      <Page size="A4" style={styles.page}>
        <View style={styles.header} fixed>
          <BrandMark />
          <Text style={styles.brandName}>Balansity</Text>
          <Text style={styles.brandTagline}>{copy.brandTagline}</Text>
        </View>

        <Text style={styles.title}>{copy.documentTitle}</Text>
        {props.userName ? (
          <View style={styles.meta}>
            <Text style={styles.metaLabel}>{copy.preparedFor}</Text>
            <Text>{props.userName}</Text>
          </View>
        ) : null}
        <View style={styles.meta}>
          <Text style={styles.metaLabel}>{copy.checkup}</Text>
          <Text>{`${props.checkupTitle} (${props.kindName})`}</Text>
        </View>
        <View style={styles.meta}>
          <Text style={styles.metaLabel}>{copy.completedOn}</Text>
          <Text>{props.completedOn}</Text>
        </View>

        {results ? <Scores copy={copy} results={results} /> : <NoScores copy={copy} />}

        <Text style={styles.disclaimer}>{copy.disclaimer}</Text>

        <View style={styles.footer} fixed>
          <Text>balansity.ru</Text>
          <Text
            style={styles.pageNumber}
            render={({ pageNumber, totalPages }) => copy.page(pageNumber, totalPages)}
          />
        </View>
      </Page>
    </Document>
  );
}

/** What a report without scores says instead of them. */
function NoScores({ copy }: { readonly copy: ReportCopy }) {
  return (
    <>
      <Text style={styles.section}>{copy.overall}</Text>
      <Text>{copy.noScores}</Text>
    </>
  );
}

/** The overall result, a chart and notes per category. */
function Scores({ copy, results }: { readonly copy: ReportCopy; readonly results: CheckupResults }) {
  return (
    <>
      <Text style={styles.section}>{copy.overall}</Text>
      <View style={styles.overallRow}>
        <ScoreRing value={results.score} level={results.level} />
        <View style={styles.overallText}>
          <Text style={styles.overallScore}>{`${results.score} / 100 · ${copy.levels[results.level]}`}</Text>
          <Text>{copy.overallSummary[results.level]}</Text>
        </View>
      </View>

      <Text style={styles.section}>{copy.byCategory}</Text>
      {results.scales.map(({ scale, value }) => (
        <View key={scale} style={styles.chartRow} wrap={false}>
          <Text style={styles.chartLabel}>{copy.scales[scale] ?? scale}</Text>
          <ScoreBar value={value} />
          <Text style={styles.chartValue}>{String(value)}</Text>
        </View>
      ))}

      <Text style={styles.section}>{copy.interpretation}</Text>
      {results.scales.map(({ scale, value }) => (
        <View key={scale} style={styles.item} wrap={false}>
          <Text
            style={styles.itemTitle}
          >{`${copy.scales[scale] ?? scale}: ${value} (${copy.levels[levelOf(value)]})`}</Text>
          <Text>{copy.interpretations[scale]?.[levelOf(value)] ?? ""}</Text>
        </View>
      ))}
    </>
  );
}
