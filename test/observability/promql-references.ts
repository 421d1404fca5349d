// What a PromQL expression reads: the metric and label names in it, as the Prometheus project's
// own PromQL grammar (the one its web UI parses queries with) finds them, and its syntax errors.
import { parser } from '@prometheus-io/lezer-promql';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export interface SelectorReference {
  /** The metric name as written: a histogram's series end in _bucket, _sum or _count. */
  metric: string;
  /** Label names the selector matches on. */
  labels: string[];
}

export interface PromqlReferences {
  selectors: SelectorReference[];
  /** Labels named by `by`, `without`, `on`, `ignoring`, `group_left` and `group_right`. */
  groupingLabels: string[];
  /** Where the expression does not parse, with the text there. */
  errors: string[];
}

/** Grafana's interval variables stand where PromQL wants a duration; any duration parses the same. */
const GRAFANA_DURATIONS = /\$__(?:rate_interval|interval|range)\b|\$\{__(?:rate_interval|interval|range)\}/g;

function descendants(node: SyntaxNode, name: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  const cursor = node.cursor();
  const end = node.to;
  while (cursor.next() && cursor.from < end) if (cursor.name === name) found.push(cursor.node);
  return found;
}

export function promqlReferences(expr: string): PromqlReferences {
  const text = expr.replace(GRAFANA_DURATIONS, '5m');
  const refs: PromqlReferences = { selectors: [], groupingLabels: [], errors: [] };
  const slice = (n: { from: number; to: number }): string => text.slice(n.from, n.to);
  parser.parse(text).iterate({
    enter(ref) {
      if (ref.type.isError) refs.errors.push(`at character ${ref.from}: ${JSON.stringify(text.slice(Math.max(0, ref.from - 10), ref.from + 10))}`);
      if (ref.name === 'VectorSelector') {
        const identifier = ref.node.getChild('Identifier');
        const matchers = ref.node.getChild('LabelMatchers');
        refs.selectors.push({
          metric: identifier ? slice(identifier) : '',
          labels: matchers ? descendants(matchers, 'LabelName').map(slice) : [],
        });
        return false;
      }
      if (ref.name === 'GroupingLabels') {
        refs.groupingLabels.push(...descendants(ref.node, 'LabelName').map(slice));
        return false;
      }
      return undefined;
    },
  });
  return refs;
}
