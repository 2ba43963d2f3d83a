/**
 * The labeling page's pieces for a data-manager selection ("Label selected"): where the current
 * task stands in it, and the finished state once nothing of it is left to label.
 */
import { Link } from '../app/router';
import { Empty } from '../components/ui';
import type { LabelSelection, SelectionProgress } from '../editor/label-selection';

const tasks = (n: number) => `${n.toLocaleString('en-US')} task${n === 1 ? '' : 's'}`;

/** "Task k of N selected". */
export function SelectionProgressBadge({ progress }: { progress: SelectionProgress }) {
  return (
    <span className="badge" data-testid="selection-progress" title="Your place in the tasks selected in the data manager">
      Task {progress.position.toLocaleString('en-US')} of {progress.total.toLocaleString('en-US')} selected
    </span>
  );
}

/** Nothing of the selection is left for the caller: back to the data manager, or through the tasks passed over. */
export function SelectionDone({ projectId, selection, total, onRevisit }: { projectId: number; selection: LabelSelection; total: number | undefined; onRevisit: () => void }) {
  const passed = selection.passed.length;
  return (
    <Empty icon="check" title={passed > 0 ? 'Selection gone through' : 'Selection finished'}>
      <p data-testid="selection-done">
        {total !== undefined ? `Nothing is left for you to label among the ${tasks(total)} you selected` : 'Nothing is left for you to label in this selection'}
        {passed > 0 ? `, apart from ${tasks(passed)} you passed over.` : '.'} Tasks other annotators have reserved are left to them.
      </p>
      <div className="row" style={{ justifyContent: 'center' }}>
        {passed > 0 && (
          <button type="button" className="btn" onClick={onRevisit}>
            Label the {tasks(passed)} passed over
          </button>
        )}
        <Link to={`/projects/${projectId}/data`} className="btn btn-primary">
          Back to data manager
        </Link>
      </div>
    </Empty>
  );
}
