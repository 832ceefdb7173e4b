// A virtualised list: only the rows in view (plus a few) exist in the DOM; row elements
// are reused as the list scrolls. Rows have a fixed height.
//
//   const list = new VirtualList(container, {rowHeight, createRow, updateRow, onNearEnd});
//   list.setItems(array);   // redraws on the next animation frame
//   list.refresh();         // redraw the visible rows (their items changed)
//   list.setRowHeight(px);  // another fixed height (a layout change, e.g. a narrow screen)

import { frameThrottle } from './util.js';

export class VirtualList {
  constructor(container, { rowHeight, createRow, updateRow, onNearEnd, overscan = 6, label }) {
    this.rowHeight = rowHeight;
    this.createRow = createRow;
    this.updateRow = updateRow;
    this.onNearEnd = onNearEnd;
    this.overscan = overscan;
    this.items = [];
    this.rows = new Map(); // index -> element
    this.spare = [];
    this.scroller = container;
    this.scroller.classList.add('vlist');
    this.scroller.setAttribute('tabindex', '0');
    if (label) this.scroller.setAttribute('aria-label', label);
    this.spacer = document.createElement('div');
    this.spacer.className = 'vlist-spacer';
    this.spacer.setAttribute('role', 'presentation');
    this.scroller.append(this.spacer);
    this.schedule = frameThrottle(() => this.render());
    this.onScroll = () => this.schedule();
    this.scroller.addEventListener('scroll', this.onScroll, { passive: true });
    this.resizeObserver = new ResizeObserver(() => this.schedule());
    this.resizeObserver.observe(this.scroller);
  }

  setItems(items) {
    this.items = items;
    this.spacer.style.height = `${items.length * this.rowHeight}px`;
    this.scroller.setAttribute('aria-rowcount', String(items.length));
    this.schedule();
  }

  refresh() {
    this.schedule();
  }

  setRowHeight(rowHeight) {
    if (rowHeight === this.rowHeight) return;
    const first = Math.floor(this.scroller.scrollTop / this.rowHeight);
    this.rowHeight = rowHeight;
    for (const [, el] of this.rows) {
      el.hidden = true;
      this.spare.push(el);
    }
    this.rows.clear();
    for (const el of this.spare) el.style.height = `${rowHeight}px`;
    this.spacer.style.height = `${this.items.length * rowHeight}px`;
    this.scroller.scrollTop = first * rowHeight;
    this.schedule();
  }

  // Indexes of the rows now in view.
  visibleRange() {
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - this.overscan);
    const last = Math.min(this.items.length - 1,
      Math.ceil((top + height) / this.rowHeight) + this.overscan);
    return [first, last];
  }

  render() {
    const [first, last] = this.visibleRange();
    for (const [index, el] of this.rows) {
      if (index < first || index > last) {
        this.rows.delete(index);
        el.hidden = true;
        this.spare.push(el);
      }
    }
    for (let i = first; i <= last; i++) {
      let el = this.rows.get(i);
      if (!el) {
        el = this.spare.pop();
        if (!el) {
          el = this.createRow();
          el.classList.add('vlist-row');
          el.style.height = `${this.rowHeight}px`;
          this.spacer.append(el);
        }
        el.hidden = false;
        el.style.transform = `translateY(${i * this.rowHeight}px)`;
        this.rows.set(i, el);
      }
      el.setAttribute('aria-rowindex', String(i + 1));
      this.updateRow(el, this.items[i], i);
    }
    if (this.onNearEnd && this.items.length > 0 && last >= this.items.length - 1 - this.overscan * 2) {
      this.onNearEnd();
    }
  }

  // The elements of the rows in view, for views that draw into them (charts).
  *visibleRows() {
    for (const [index, el] of this.rows) yield [index, el, this.items[index]];
  }

  destroy() {
    this.scroller.removeEventListener('scroll', this.onScroll);
    this.resizeObserver.disconnect();
    this.rows.clear();
    this.spare = [];
  }
}
