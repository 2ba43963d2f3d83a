/**
 * The data manager's row selection as Label Studio's `selectedItems` means it: either some ids,
 * or every task the filters match except some ids. "Select all" therefore selects by filter,
 * not by the rows loaded so far, and stays one small object at 100,000 tasks.
 */

/** Selected rows: `all` false → `ids` are the chosen ones; `all` true → `ids` are the excluded ones. */
export interface RowSelection {
  all: boolean;
  ids: ReadonlySet<number>;
}

/** Nothing selected. */
export const NOTHING: RowSelection = { all: false, ids: new Set() };

/** Every task matching the filters. */
export const EVERYTHING: RowSelection = { all: true, ids: new Set() };

/** Whether task `id` is selected. */
export const isSelected = (s: RowSelection, id: number) => s.all !== s.ids.has(id);

/** How many tasks the selection holds, of `total` matching the filters. */
export const selectedCount = (s: RowSelection, total: number) => (s.all ? Math.max(0, total - s.ids.size) : s.ids.size);

/** The selection with task `id` flipped. */
export function toggled(s: RowSelection, id: number): RowSelection {
  const ids = new Set(s.ids);
  if (ids.has(id)) ids.delete(id);
  else ids.add(id);
  return { all: s.all, ids };
}

/** The selection as the API's `selectedItems`. */
export const selectedItems = (s: RowSelection) => (s.all ? { all: true, excluded: [...s.ids] } : { all: false, included: [...s.ids] });
