// The studies, one row per StudyInstanceUID (when the API offers GET /studies), and one study: its summary and files,
// grouped by series when the API offers GET /studies/{study_uid}/series.
import { ApiError, apiFetch, apiJson, errorFrom } from './api.js';
import { fillDefinitions, h } from './dom.js';
import { formatDicomDate, formatPersonName } from './format.js';
import { STUDY_FILE_COLUMNS, createFileTable, createPaged, cursorPages, messageOf } from './list.js';

/** @typedef {import('./api.js').FileRecord} FileRecord */
/** @typedef {import('./api.js').FileListing} FileListing */
/** @typedef {import('./api.js').StudySummary} StudySummary */
/** @typedef {import('./api.js').StudyListing} StudyListing */
/** @typedef {import('./api.js').StudySeries} StudySeries */
/** @typedef {import('./api.js').StudySeriesListing} StudySeriesListing */
/** @typedef {import('./list.js').PagerElements} PagerElements */

/** Whether the API has GET /studies (an addition to the base contract), once known. */
/** @type {Promise<boolean> | null} */
let studiesProbe = null;

/**
 * Whether the API offers studies: asked once with a page of one study. A 404 (ROUTE_NOT_FOUND) or 405 means no; an
 * answer that says neither (a refused key, a failure) is not remembered, so a later call asks again.
 * @returns {Promise<boolean>}
 */
export function studiesOffered() {
  studiesProbe ??= apiFetch('studies?limit=1').then(
    async (response) => {
      await response.body?.cancel();
      if (response.ok) return true;
      if (response.status !== 404 && response.status !== 405) studiesProbe = null;
      return false;
    },
    () => {
      studiesProbe = null;
      return false;
    },
  );
  return studiesProbe;
}

/** The day the study_date probe asks for: any valid date does, the answer is only looked at for its studies' dates. */
const PROBE_DATE = '19700101';
/** Whether GET /studies takes `study_date`, once known. */
/** @type {Promise<boolean> | null} */
let studyDateProbe = null;

/**
 * Whether GET /studies takes `study_date` (a later addition to it), asked with a page of one study of one day: a 400
 * naming study_date (BAD_QUERY, an unknown parameter), a 404 or 405 (no studies at all), or a study of another day (an
 * API that ignores the parameter) means no; none that day while there are studies means yes. An answer that says
 * neither (a refused key, a failure, no studies at all) is not remembered.
 * @returns {Promise<boolean>}
 */
function studyDateOffered() {
  studyDateProbe ??= (async () => {
    try {
      const response = await apiFetch(`studies?${new URLSearchParams({ limit: '1', study_date: PROBE_DATE })}`);
      if (response.ok) {
        /** @type {StudyListing} */
        const body = await response.json();
        if (body.studies.length > 0) return body.studies.every((study) => study.study_date === PROBE_DATE);
        // None that day: the filter works, unless there are no studies at all (then an API that ignores it would
        // answer none too, and the next refresh asks again).
        /** @type {StudyListing} */
        const any = await apiJson('studies?limit=1');
        if (any.studies.length > 0) return true;
        studyDateProbe = null;
        return false;
      }
      const error = await errorFrom(response);
      const refused = error.status === 400 && /\bstudy_date\b/.test(error.message);
      if (!refused && error.status !== 404 && error.status !== 405) studyDateProbe = null;
      return false;
    } catch {
      // A network failure, or an answer that is not a listing.
      studyDateProbe = null;
      return false;
    }
  })();
  return studyDateProbe;
}

/** @param {unknown} error */
const studiesMissing = (error) => error instanceof ApiError && (error.status === 404 || error.status === 405);

/** @param {unknown} error */
function studiesFailure(error) {
  if (studiesMissing(error)) return 'This API does not offer studies: browse the files instead.';
  return `Could not load the studies: ${messageOf(error)}`;
}

/** @param {number} count */
const studiesText = (count) => `${count} ${count === 1 ? 'study' : 'studies'}`;

/**
 * @typedef {object} StudyListOptions
 * @property {HTMLTableSectionElement} body
 * @property {HTMLElement} status a polite live region
 * @property {PagerElements} pager
 * @property {HTMLFormElement} filters the study date filter (a `study_date` field), hidden until the API takes it
 * @property {(uid: string) => string} studyHref
 */

/**
 * The studies, newest study date first: patient, patient ID, date, description, modalities and instances; each row
 * opens its study. The filter form narrows them to a day or a range of days when the API takes `study_date`.
 * @param {StudyListOptions} options
 */
export function createStudyList(options) {
  const field = options.filters.elements.namedItem('study_date');
  if (!(field instanceof HTMLInputElement)) throw new Error('the studies filter has no study_date field');
  const dateField = field;
  /** The study date filter applied (as typed, trimmed); '' for none. */
  let studyDate = '';
  const pages = cursorPages(
    () => 'studies',
    (/** @type {StudyListing} */ body) => body.studies,
    () => (studyDate ? { study_date: studyDate } : /** @type {Record<string, string>} */ ({})),
  );
  const paged = createPaged({
    body: options.body,
    status: options.status,
    pager: options.pager,
    fetchPage: pages.fetch,
    render,
    describe: (studies) => {
      markDate(false);
      return studies.length ? `Showing ${studiesText(studies.length)}, newest study date first.` : '';
    },
    failure: (error) => {
      // A date the API cannot read: its own message says what it takes.
      const badDate =
        studyDate !== '' &&
        error instanceof ApiError &&
        error.status === 400 &&
        error.code === 'INVALID_PARAMETER' &&
        (error.parameter ?? 'study_date') === 'study_date';
      markDate(badDate);
      if (!studiesMissing(error)) options.status.dataset.kind = 'error';
      return badDate ? error.message : studiesFailure(error);
    },
  });

  /** @param {boolean} invalid whether the API refused the date typed (the status line says why) */
  function markDate(invalid) {
    if (invalid) dateField.setAttribute('aria-invalid', 'true');
    else dateField.removeAttribute('aria-invalid');
    delete options.status.dataset.kind;
  }

  /** @param {string} value the new filter ('' for none): back to the first page, whose cursor is bound to it */
  function filterBy(value) {
    studyDate = value;
    pages.reset();
    markDate(false);
    return paged.first();
  }

  options.filters.addEventListener('submit', (event) => {
    event.preventDefault();
    void filterBy(dateField.value.trim());
  });
  options.filters.addEventListener('reset', () => void filterBy(''));

  /** @param {StudySummary} study */
  function row(study) {
    const name = formatPersonName(study.patient_name);
    return h(
      'tr',
      { 'data-uid': study.study_instance_uid },
      h(
        'td',
        { class: 'lead', 'data-label': 'Patient' },
        h('a', {
          href: options.studyHref(study.study_instance_uid),
          class: 'study-link',
          'data-action': 'open',
          text: name || '(no name)',
          title: study.patient_name ?? '',
        }),
      ),
      h('td', { 'data-label': 'Patient ID', text: study.patient_id ?? '' }),
      h('td', { 'data-label': 'Study date', text: formatDicomDate(study.study_date) }),
      h('td', { 'data-label': 'Description', text: study.study_description ?? '' }),
      h('td', { 'data-label': 'Modalities', text: (study.modalities_in_study ?? []).join(', ') }),
      h('td', { 'data-label': 'Instances', class: 'number', text: String(study.number_of_instances ?? '') }),
    );
  }

  /** @param {StudySummary[]} studies */
  function render(studies) {
    const focused = document.activeElement;
    const focusedUid =
      focused instanceof HTMLElement && options.body.contains(focused) ? focused.closest('tr')?.dataset.uid : undefined;
    if (studies.length === 0) {
      const text = studyDate ? 'No study matches this date.' : 'No studies yet: upload files in Files.';
      options.body.replaceChildren(h('tr', {}, h('td', { colspan: 6, class: 'empty', text })));
    } else {
      options.body.replaceChildren(...studies.map(row));
    }
    if (focusedUid) {
      const again = options.body.querySelector(`tr[data-uid="${CSS.escape(focusedUid)}"] a`);
      if (again instanceof HTMLElement) again.focus();
    }
  }

  return {
    /**
     * Loads the current page again, with the filter applied (coming back to the list, or the Refresh button); the
     * filter form shows once the API turns out to take `study_date`.
     */
    refresh() {
      void studyDateOffered().then((offered) => {
        options.filters.hidden = !offered;
      });
      return paged.refresh();
    },
  };
}

/**
 * @typedef {object} StudyViewOptions
 * @property {HTMLElement} heading
 * @property {HTMLElement} summary a <dl>
 * @property {HTMLElement} summaryStatus
 * @property {HTMLTableSectionElement} body the study's files (all of them, newest first: without series)
 * @property {HTMLElement} filesHeading focused when the focused row goes away
 * @property {HTMLElement} status a polite live region for the files
 * @property {PagerElements} pager
 * @property {(id: string) => string} fileHref
 * @property {(record: FileRecord) => Promise<boolean>} confirmDelete
 * @property {() => boolean} isVisible
 */

/**
 * One series' part of a study view: its heading, and its files in a table of their own.
 * @typedef {object} SeriesGroup
 * @property {HTMLElement} section
 * @property {HTMLElement} title
 * @property {HTMLElement} facts
 * @property {HTMLElement} caption
 * @property {HTMLElement} status
 * @property {ReturnType<typeof createFileTable>} table
 */

/** Whether the API may have GET /studies/{study_uid}/series: false once one answer said it has not. */
let seriesRoute = true;
/** Numbers the series headings' ids. */
let seriesHeadings = 0;

/** The hash shown before the current one: back from a file, the study view puts the keyboard on that file's link. */
let previousHash = window.location.hash;
let currentHash = window.location.hash;
window.addEventListener('hashchange', () => {
  previousHash = currentHash;
  currentHash = window.location.hash;
});

/** @param {StudySeries} series */
const seriesTitle = (series) =>
  [
    series.series_number === null ? 'Series without a number' : `Series ${series.series_number}`,
    series.series_description,
  ]
    .filter(Boolean)
    .join(': ');

/** @param {StudySeries} series */
function seriesFacts(series) {
  const count = series.number_of_instances;
  return [series.modality, `${count} ${count === 1 ? 'instance' : 'instances'}`].filter(Boolean).join(' · ');
}

/**
 * One study: what it is (patient, date, description, modalities, instances) and its files, each opening its detail
 * view: under a heading per series (number, description, modality, instances), in series-number order, when the API
 * lists the study's series; else (an older API, files without a series) in one table, newest first.
 * @param {StudyViewOptions} options
 */
export function createStudyView(options) {
  /** @type {string | null} */
  let uid = null;
  /** Bumped on every open: a late summary of another study is dropped. */
  let generation = 0;
  const groupsBox = document.getElementById('study-series');
  const flatTable = options.body.closest('.table-scroll');
  const columnHeads = options.body.closest('table')?.querySelector('thead');
  /** The series shown, in their order on the page, by SeriesInstanceUID. */
  /** @type {Map<string, SeriesGroup>} */
  const groups = new Map();
  const pages = cursorPages(
    () => `studies/${encodeURIComponent(uid ?? '')}/files`,
    (/** @type {FileListing} */ body) => body.files,
  );
  const files = createFileTable({
    body: options.body,
    heading: options.filesHeading,
    status: options.status,
    pager: options.pager,
    columns: STUDY_FILE_COLUMNS,
    fetchPage: pages.fetch,
    emptyText: () => 'No file of this study is stored.',
    fileHref: options.fileHref,
    confirmDelete: options.confirmDelete,
    isVisible: options.isVisible,
    // The instance count changed.
    onDeleted: () => void afterDelete(null),
  });

  /** @param {string} text a message about the study, shown only when there is one */
  function say(text) {
    options.summaryStatus.textContent = text;
    options.summaryStatus.hidden = !text;
  }

  /** @param {StudySummary} study */
  function showSummary(study) {
    const name = formatPersonName(study.patient_name);
    options.heading.textContent = name || study.study_description || 'Study';
    fillDefinitions(options.summary, [
      ['Patient', name],
      ['Patient name (as stored)', study.patient_name],
      ['Patient ID', study.patient_id],
      ['Study date', formatDicomDate(study.study_date)],
      ['Description', study.study_description],
      ['Modalities', (study.modalities_in_study ?? []).join(', ')],
      ['Instances', String(study.number_of_instances ?? '')],
      ['Study Instance UID', study.study_instance_uid],
    ]);
  }

  /**
   * @param {number} mine
   * @returns {Promise<StudySummary | null>} the study, when it could be had
   */
  async function loadSummary(mine) {
    if (!uid) return null;
    try {
      /** @type {StudySummary} */
      const study = await apiJson(`studies/${encodeURIComponent(uid)}`);
      if (mine !== generation) return null;
      showSummary(study);
      say('');
      return study;
    } catch (error) {
      if (mine !== generation) return null;
      options.summary.replaceChildren();
      const gone = error instanceof ApiError && error.status === 404;
      if (gone && error.code === 'ROUTE_NOT_FOUND') {
        options.heading.textContent = 'Study';
        say('This API does not offer studies: browse the files instead.');
      } else {
        options.heading.textContent = gone ? 'Study not found' : 'Study';
        say(gone ? 'No file of this study is stored (any more).' : `Could not load the study: ${messageOf(error)}`);
      }
      return null;
    }
  }

  /**
   * The study's series, or null for one table of all its files: an API without the route (remembered), a study gone or
   * without series, or an answer that could not be had (the files are shown all the same).
   * @param {string} studyUid
   * @returns {Promise<StudySeries[] | null>}
   */
  async function loadSeries(studyUid) {
    if (!seriesRoute) return null;
    try {
      /** @type {StudySeriesListing} */
      const body = await apiJson(`studies/${encodeURIComponent(studyUid)}/series`);
      return Array.isArray(body.series) && body.series.length > 0 ? body.series : null;
    } catch (error) {
      const missing =
        error instanceof ApiError &&
        ((error.status === 404 && error.code === 'ROUTE_NOT_FOUND') || error.status === 405);
      if (missing) seriesRoute = false;
      return null;
    }
  }

  /**
   * The series to group by: none when some instance of the study is in no series listed (a file without a
   * SeriesInstanceUID), which only the table of all files would show.
   * @param {StudySummary | null} study @param {StudySeries[] | null} series
   */
  function groupable(study, series) {
    if (!series) return null;
    const counted = series.reduce((sum, s) => sum + (s.number_of_instances ?? 0), 0);
    return study && counted < (study.number_of_instances ?? 0) ? null : series;
  }

  /** @param {StudySeries} series @returns {SeriesGroup} */
  function createGroup(series) {
    const seriesUid = series.series_instance_uid;
    const headingId = `series-heading-${++seriesHeadings}`;
    const title = h('span', { class: 'series-title' });
    const facts = h('span', { class: 'series-facts' });
    const caption = h('caption', { class: 'visually-hidden' });
    const status = h('p', { class: 'status-line', role: 'status', 'aria-live': 'polite' });
    const body = h('tbody');
    const previous = h('button', { type: 'button', text: 'Previous' });
    const next = h('button', { type: 'button', text: 'Next' });
    const label = h('span');
    const nav = h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages of this series’ files', hidden: true },
      previous,
      label,
      next,
    );
    const head = columnHeads ? /** @type {HTMLElement} */ (columnHeads.cloneNode(true)) : null;
    const section = h(
      'section',
      { class: 'series-group', 'data-series-uid': seriesUid, 'aria-labelledby': headingId },
      h('h3', { id: headingId, class: 'series-heading' }, title, ' ', facts),
      status,
      h('div', { class: 'table-scroll' }, h('table', { class: 'file-table card-table' }, caption, head, body)),
      nav,
    );
    const seriesPages = cursorPages(
      () => `studies/${encodeURIComponent(uid ?? '')}/files`,
      (/** @type {FileListing} */ listing) => listing.files,
      () => ({ series_uid: seriesUid }),
    );
    /** @type {SeriesGroup} */
    const group = {
      section,
      title,
      facts,
      caption,
      status,
      table: createFileTable({
        body,
        heading: options.filesHeading,
        status,
        pager: { nav, previous, next, label },
        columns: STUDY_FILE_COLUMNS,
        fetchPage: seriesPages.fetch,
        emptyText: () => 'No file of this series is stored.',
        fileHref: options.fileHref,
        confirmDelete: options.confirmDelete,
        isVisible: options.isVisible,
        onDeleted: () => void afterDelete(group),
      }),
    };
    describeGroup(group, series);
    return group;
  }

  /** @param {SeriesGroup} group @param {StudySeries} series */
  function describeGroup(group, series) {
    group.title.textContent = seriesTitle(series);
    group.facts.textContent = seriesFacts(series);
    group.caption.textContent = `The files of ${seriesTitle(series)}, newest first`;
  }

  /** @param {string} seriesUid */
  function dropGroup(seriesUid) {
    groups.get(seriesUid)?.table.clear();
    groups.get(seriesUid)?.section.remove();
    groups.delete(seriesUid);
  }

  /**
   * Shows the files grouped by these series (null: in the one table): new groups load their first page, the ones
   * already shown load theirs again when `reload` (else only their headings change).
   * @param {StudySeries[] | null} series @param {{ reload: boolean, first: boolean }} how
   */
  async function showFiles(series, how) {
    if (!groupsBox || !series) {
      for (const seriesUid of [...groups.keys()]) dropGroup(seriesUid);
      if (groupsBox) groupsBox.hidden = true;
      // Shown again after the series (the study's last series gone): from its first page, as for another study.
      const entering = flatTable instanceof HTMLElement && flatTable.hidden;
      if (flatTable instanceof HTMLElement) flatTable.hidden = false;
      await (how.first || entering ? files.first() : files.refresh());
      return;
    }
    if (flatTable instanceof HTMLElement && !flatTable.hidden) {
      files.clear();
      flatTable.hidden = true;
    }
    const listed = new Set(series.map((s) => s.series_instance_uid));
    for (const seriesUid of [...groups.keys()]) if (!listed.has(seriesUid)) dropGroup(seriesUid);
    /** @type {Promise<unknown>[]} */
    const loads = [];
    const order = series.map((s) => {
      let group = groups.get(s.series_instance_uid);
      if (group) {
        describeGroup(group, s);
        if (how.reload) loads.push(group.table.refresh());
      } else {
        group = createGroup(s);
        groups.set(s.series_instance_uid, group);
        loads.push(group.table.first());
      }
      return group.section;
    });
    // Only a changed order moves the sections (moving one would take the keyboard focus out of it).
    if (order.some((section, i) => groupsBox.children[i] !== section) || groupsBox.children.length !== order.length) {
      groupsBox.replaceChildren(...order);
    }
    groupsBox.hidden = false;
    options.status.textContent = `${series.length} series, in series-number order.`;
    await Promise.all(loads);
  }

  /**
   * After a delete: the summary's and the series' counts again; a series whose last file went goes, and what its
   * status line said (the delete's outcome) moves to the study's.
   * @param {SeriesGroup | null} from
   */
  async function afterDelete(from) {
    const mine = generation;
    if (!uid) return;
    if (from === null) {
      await loadSummary(mine);
      return;
    }
    const [study, series] = await Promise.all([loadSummary(mine), loadSeries(uid)]);
    if (mine !== generation) return;
    const outcome = from.status.textContent ?? '';
    await showFiles(groupable(study, series), { reload: false, first: false });
    if (mine === generation && !from.section.isConnected && outcome) options.status.textContent = outcome;
  }

  /** Back from a file of this study: the keyboard on its link (after the view's own focus, a task later). */
  function focusFileLeft() {
    if (!groupsBox || groupsBox.hidden || !previousHash.startsWith('#/files/')) return;
    const link = groupsBox.querySelector(`a.file-link[href="${CSS.escape(previousHash)}"]`);
    if (link instanceof HTMLElement) setTimeout(() => options.isVisible() && link.focus(), 0);
  }

  return {
    /**
     * Shows a study: the same one again (coming back from one of its files) keeps its pages of files.
     * @param {string} studyUid
     */
    async open(studyUid) {
      const mine = ++generation;
      const again = studyUid === uid;
      if (!again) {
        uid = studyUid;
        pages.reset();
        for (const seriesUid of [...groups.keys()]) dropGroup(seriesUid);
        files.clear();
        options.summary.replaceChildren();
        say('');
        options.heading.textContent = 'Loading…';
      }
      const [study, series] = await Promise.all([loadSummary(mine), loadSeries(studyUid)]);
      if (mine !== generation) return;
      await showFiles(groupable(study, series), { reload: again, first: !again });
      if (again) focusFileLeft();
    },
    stopPolling() {
      files.stopPolling();
      for (const group of groups.values()) group.table.stopPolling();
    },
  };
}
