//! One level of a pane's drill-down stack: the view plus what the user did to its table
//! (filter, sort, selection). The selection is kept by row key, so it survives refreshes.

use opsdeck_core::view::{KEY, Row, SortKey, Table, View, ViewCtx};
use regex::RegexBuilder;
use std::cell::{Cell, OnceCell, RefCell};
use std::cmp::Ordering;
use std::rc::Rc;

pub struct Screen {
    pub view: Box<dyn View>,
    /// Case-insensitive regex (falls back to a plain substring when it does not compile);
    /// a leading `!` inverts it.
    pub filter: String,
    /// (column, descending) chosen by the user; `None` uses the view's default.
    pub sort: Option<(usize, bool)>,
    /// Key of the selected row: set from the first frame that has rows, so refreshes and re-sorts
    /// never change what is selected.
    pub selected: Option<String>,
    /// The selected row's first cell, to name it once it is gone.
    pub selected_label: String,
    /// Index the selection had, so it lands nearby when its row disappears.
    pub selected_index: usize,
    /// First visible row; adjusted while drawing to keep the selection on screen.
    pub offset: Cell<usize>,
    /// Columns scrolled past the first one (`←`/`→`); clamped while drawing.
    pub col_scroll: Cell<usize>,
    /// Columns the last draw could not show (the footer offers `←`/`→` only then).
    pub hidden_columns: Cell<usize>,
    /// The view's table after filter and sort, as of an app revision: rebuilt only when the data,
    /// the filter or the sort changed, not on every frame or selection move.
    rows: RefCell<Option<CachedRows>>,
}

struct CachedRows {
    revision: u64,
    filter: String,
    sort: Option<(usize, bool)>,
    table: Rc<Table>,
    cell_widths: Rc<OnceCell<Vec<u16>>>,
}

/// The selected row went away (a refresh no longer has it, or a filter hides it): what it was and
/// which row is selected instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departed {
    pub left: String,
    pub now: String,
}

/// A table after filter and sort, with the selection resolved to an index.
pub struct Visible {
    /// Shared with the screen's cache: cloning a `Visible` copies no rows.
    pub table: Rc<Table>,
    pub selected: Option<usize>,
    /// The widest cell of each column, measured by the first draw of this table and kept with it
    /// (measuring 10,000 rows on every frame costs more than drawing the 60 shown).
    pub cell_widths: Rc<OnceCell<Vec<u16>>>,
}

impl Screen {
    pub fn new(view: Box<dyn View>) -> Self {
        Self {
            view,
            filter: String::new(),
            sort: None,
            selected: None,
            selected_label: String::new(),
            selected_index: 0,
            offset: Cell::new(0),
            col_scroll: Cell::new(0),
            hidden_columns: Cell::new(0),
            rows: RefCell::new(None),
        }
    }

    /// The rows the user sees, in order, and which one is selected.
    pub fn visible(&self, ctx: &ViewCtx) -> Visible {
        let (table, cell_widths) = self.rows(ctx);
        let selected = if table.rows.is_empty() {
            None
        } else {
            let at = |i: usize| table.rows.get(i).filter(|r| Some(&r.key) == self.selected.as_ref());
            // Where it was last (a selection move, a frame without changes) before a search.
            let by_key = match at(self.selected_index) {
                Some(_) => Some(self.selected_index),
                None => self
                    .selected
                    .as_ref()
                    .and_then(|k| table.rows.iter().position(|r| &r.key == k)),
            };
            Some(by_key.unwrap_or(self.selected_index.min(table.rows.len() - 1)))
        };
        Visible {
            table,
            selected,
            cell_widths,
        }
    }

    /// Lets go of the cached table (a screen not shown, once the revision moved past it).
    pub fn forget_rows(&self) {
        self.rows.borrow_mut().take();
    }

    /// Whether the screen holds a built table.
    pub fn holds_rows(&self) -> bool {
        self.rows.borrow().is_some()
    }

    /// The view's table after filter and sort: the cached one while the revision, filter and sort
    /// are those it was built for.
    fn rows(&self, ctx: &ViewCtx) -> (Rc<Table>, Rc<OnceCell<Vec<u16>>>) {
        let mut cache = self.rows.borrow_mut();
        if let (Some(c), Some(revision)) = (cache.as_ref(), ctx.revision)
            && c.revision == revision
            && c.filter == self.filter
            && c.sort == self.sort
        {
            return (Rc::clone(&c.table), Rc::clone(&c.cell_widths));
        }
        let mut table = self.view.table(ctx);
        apply_filter(&mut table.rows, &self.filter);
        if let Some((col, desc)) = self.sort.or(table.default_sort) {
            sort_rows(&mut table.rows, col, desc);
        }
        let table = Rc::new(table);
        let cell_widths = Rc::new(OnceCell::new());
        // The table this one replaces is freed on the drop thread: 20,000 rows of cells cost the
        // frame milliseconds to free. It is only the cache's once no frame holds it any more.
        if let Some(old) = cache.take()
            && let Ok(old_table) = Rc::try_unwrap(old.table)
        {
            opsdeck_core::garbage::drop_elsewhere(old_table);
        }
        *cache = ctx.revision.map(|revision| CachedRows {
            revision,
            filter: self.filter.clone(),
            sort: self.sort,
            table: Rc::clone(&table),
            cell_widths: Rc::clone(&cell_widths),
        });
        (table, cell_widths)
    }

    /// Moves the selection to row `index` of `visible`.
    pub fn select(&mut self, visible: &Visible, index: usize) {
        if let Some(row) = visible.table.rows.get(index) {
            self.selected = Some(row.key.clone());
            self.selected_label = row_label(&visible.table, row);
            self.selected_index = index;
        }
    }

    /// Selects the row with `key` if the user can see it now (filter and all).
    pub fn select_key(&mut self, ctx: &ViewCtx, key: &str) -> bool {
        let visible = self.visible(ctx);
        match visible.table.rows.iter().position(|r| r.key == key) {
            Some(i) => {
                self.select(&visible, i);
                true
            }
            None => false,
        }
    }

    /// Pins the selection to a row key: the first row once rows exist, and the neighbour (the row now
    /// where it was) when the selected row is gone, which is returned so the person can be told.
    /// A table that is empty for now keeps the selection for when its rows come back.
    pub fn settle(&mut self, ctx: &ViewCtx) -> Option<Departed> {
        let visible = self.visible(ctx);
        let index = visible.selected?;
        let row = &visible.table.rows[index];
        let departed = match &self.selected {
            Some(key) if *key == row.key => None,
            Some(_) => Some(Departed {
                left: std::mem::take(&mut self.selected_label),
                now: row_label(&visible.table, row),
            }),
            None => None,
        };
        self.select(&visible, index);
        departed
    }

    /// The selected row's key, as the user sees it now.
    pub fn selected_key(&self, ctx: &ViewCtx) -> Option<String> {
        let v = self.visible(ctx);
        v.selected.map(|i| v.table.rows[i].key.clone())
    }
}

/// How a person names a row: its text in the most important text column (a name, a subject).
fn row_label(table: &Table, row: &Row) -> String {
    row.cells
        .iter()
        .zip(&table.columns)
        // The row's name: its key column (a PID is a number), else its most important text.
        .filter(|(c, col)| (c.sort == SortKey::Text || col.priority == KEY) && !c.text.trim().is_empty())
        .rev()
        .max_by_key(|(_, col)| col.priority)
        .map(|(c, _)| c.text.clone())
        .unwrap_or_else(|| row.key.replace('\u{0}', " "))
}

fn apply_filter(rows: &mut Vec<Row>, filter: &str) {
    let (invert, pattern) = match filter.strip_prefix('!') {
        Some(p) => (true, p.trim()),
        None => (false, filter.trim()),
    };
    if pattern.is_empty() {
        return;
    }
    let matcher: Box<dyn Fn(&str) -> bool> = match RegexBuilder::new(pattern).case_insensitive(true).build() {
        Ok(re) => Box::new(move |s: &str| re.is_match(s)),
        Err(_) => {
            let needle = pattern.to_lowercase();
            Box::new(move |s: &str| s.to_lowercase().contains(&needle))
        }
    };
    rows.retain(|r| r.cells.iter().any(|c| matcher(&c.text)) != invert);
}

fn sort_rows(rows: &mut [Row], col: usize, desc: bool) {
    rows.sort_by(|a, b| {
        let ord = match (a.cells.get(col), b.cells.get(col)) {
            (Some(x), Some(y)) => match (&x.sort, &y.sort) {
                (SortKey::Number(m), SortKey::Number(n)) => m.partial_cmp(n).unwrap_or(Ordering::Equal),
                (SortKey::Text, SortKey::Text) => caseless(&x.text, &y.text),
                (SortKey::Number(_), SortKey::Text) => Ordering::Less,
                (SortKey::Text, SortKey::Number(_)) => Ordering::Greater,
            },
            (x, y) => x.is_some().cmp(&y.is_some()),
        };
        // Stable on ties by key, so equal rows do not jump around between refreshes.
        let ord = if desc { ord.reverse() } else { ord };
        ord.then_with(|| a.key.cmp(&b.key))
    });
}

/// Compares without allocating lowercase copies; byte by byte when both are ASCII (the common
/// case, and a sort of thousands of rows makes tens of thousands of these).
fn caseless(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a
            .bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()));
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_core::view::Cell as C;

    fn rows() -> Vec<Row> {
        [("a", "alpha", 3.0), ("b", "beta", 10.0), ("c", "gamma", 1.0)]
            .into_iter()
            .map(|(k, name, n)| Row {
                key: k.into(),
                cells: vec![C::text(name), C::num(format!("{n}"), n)],
            })
            .collect()
    }

    #[test]
    fn filter_is_case_insensitive_regex_with_inversion() {
        let mut r = rows();
        apply_filter(&mut r, "A$");
        assert_eq!(r.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        let mut r = rows();
        apply_filter(&mut r, "^b|gam");
        assert_eq!(r.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["b", "c"]);
        let mut r = rows();
        apply_filter(&mut r, "!beta");
        assert_eq!(r.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["a", "c"]);
        let mut r = rows();
        apply_filter(&mut r, "(unclosed");
        assert!(r.is_empty(), "an invalid regex falls back to substring search");
    }

    #[test]
    fn text_sorts_ignoring_case_ascii_or_not() {
        assert_eq!(caseless("Alpha", "alpha"), Ordering::Equal);
        assert_eq!(caseless("alpha", "Beta"), Ordering::Less);
        assert_eq!(caseless("Éclair", "éclair"), Ordering::Equal);
        assert_eq!(caseless("éclair", "Zebra"), Ordering::Greater);
        assert_eq!(caseless("index-10", "INDEX-9"), Ordering::Less);
    }

    #[test]
    fn numbers_sort_numerically_both_ways() {
        let mut r = rows();
        sort_rows(&mut r, 1, false);
        assert_eq!(r.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["c", "a", "b"]);
        sort_rows(&mut r, 1, true);
        assert_eq!(r.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["b", "a", "c"]);
    }
}
