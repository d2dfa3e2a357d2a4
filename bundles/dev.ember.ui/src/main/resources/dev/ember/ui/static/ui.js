// Ember's web UI: one page, hash routes, everything read from the JSON API under api/v1. No libraries and no build
// step. Every value taken from the API goes through esc() before it is put into HTML, text and attributes alike: call
// sites, job groups and error messages come from user programs. There is no inline script or style, so the page
// works under a strict Content-Security-Policy (bar widths are set through the CSSOM after rendering).
'use strict';

(function () {
  var API = 'api/v1';
  var REFRESH_MS = 1000;      // while anything on the page can still change
  var RETRY_MS = 2000;        // after a failed request
  var TASK_LIMIT = 1000000;   // taskList is paged in Spark's API; ask for all of a stage's tasks

  var state = {
    generation: 0,    // bumped on every route change; a render for an older route is dropped
    timer: null,
    lastHtml: null,
    rendered: false,  // whether the current route has shown its page (a later failure then only shows a banner)
    sequence: 0,      // of requests for the page; an answer older than the one shown is dropped
    shown: 0,
    version: null
  };

  // ---------------------------------------------------------------- helpers

  var ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

  function esc(value) {
    if (value === null || value === undefined) return '';
    return String(value).replace(/[&<>"']/g, function (c) { return ESCAPES[c]; });
  }

  function seg(value) {  // one path segment of an API URL or a route
    return encodeURIComponent(String(value));
  }

  function num(value) {
    return typeof value === 'number' && isFinite(value) ? value : 0;
  }

  function HttpError(status, message) {
    this.status = status;
    this.message = message;
  }
  HttpError.prototype = Object.create(Error.prototype);

  function getJson(path) {
    return fetch(API + path, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.ok) return response.json();
        return response.text().then(function (text) {
          var message = text;
          try { message = JSON.parse(text).error || text; } catch (e) { /* not JSON */ }
          throw new HttpError(response.status, message || response.statusText);
        });
      }, function (e) {
        throw new HttpError(0, 'cannot reach the Ember UI server (' + (e && e.message ? e.message : e) + ')');
      });
  }

  function pad(n, width) {
    var s = String(n);
    while (s.length < (width || 2)) s = '0' + s;
    return s;
  }

  function fmtClock(ms, withMillis) {
    var d = new Date(ms);
    var s = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    return withMillis ? s + '.' + pad(d.getMilliseconds(), 3) : s;
  }

  function fmtDate(ms) {
    var d = new Date(ms);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
  }

  // A point in time: the clock time if today, else the date too; the full time in the tooltip.
  function fmtTime(ms) {
    if (typeof ms !== 'number' || !ms) return '<span class="muted">–</span>';
    var today = fmtDate(Date.now()) === fmtDate(ms);
    var full = fmtDate(ms) + ' ' + fmtClock(ms, true);
    return '<time datetime="' + esc(new Date(ms).toISOString()) + '" title="' + esc(full) + '">' +
      esc(today ? fmtClock(ms) : fmtDate(ms) + ' ' + fmtClock(ms)) + '</time>';
  }

  function fmtDuration(ms) {
    if (typeof ms !== 'number' || !isFinite(ms) || ms < 0) return '–';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
    if (ms < 3600000) return (ms / 60000).toFixed(1) + ' min';
    return (ms / 3600000).toFixed(1) + ' h';
  }

  var UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

  function fmtBytes(bytes) {
    if (typeof bytes !== 'number' || !isFinite(bytes)) return '–';
    var value = bytes, unit = 0;
    while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) { value /= 1024; unit++; }
    return (unit === 0 ? String(Math.round(value)) : value.toFixed(value < 10 ? 2 : 1)) + ' ' + UNITS[unit];
  }

  function bytesCell(bytes) {  // a size in a table: blank when zero, so the columns that matter stand out
    return '<td class="num" data-bytes="' + esc(num(bytes)) + '">' + (num(bytes) ? esc(fmtBytes(bytes)) : '') + '</td>';
  }

  function badge(status) {
    var s = String(status || 'UNKNOWN');
    return '<span class="status st-' + esc(s) + '" data-status="' + esc(s) + '">' + esc(s.toLowerCase()) + '</span>';
  }

  function percent(part, whole) {
    return whole > 0 ? Math.max(0, Math.min(100, 100 * part / whole)) : 0;
  }

  // A progress bar of tasks: completed (green), running (blue), failed counted in the label.
  function progress(completed, active, failed, total) {
    completed = num(completed); active = num(active); failed = num(failed); total = num(total);
    var label = completed + '/' + total;
    var extra = [];
    if (active) extra.push(active + ' running');
    if (failed) extra.push(failed + ' failed');
    return '<div class="progress" data-completed="' + completed + '" data-active="' + active + '" data-failed="' +
      failed + '" data-total="' + total + '" title="' + esc(label + ' tasks completed' +
      (extra.length ? ', ' + extra.join(', ') : '')) + '">' +
      '<span class="bar done" data-width="' + percent(completed, total).toFixed(2) + '"></span>' +
      '<span class="bar running" data-width="' + percent(active, total).toFixed(2) + '"></span>' +
      '<span class="label">' + esc(label) + (extra.length ? ' <span class="extra">(' + esc(extra.join(', ')) +
      ')</span>' : '') + '</span></div>';
  }

  var TRACEBACK = /^Traceback \(most recent call last\)/;

  // The line of an error message worth showing in a table: its first line and, for a Python traceback, the
  // exception line at its end ("ValueError: ..."); just that line when the message is only the traceback.
  function errorSummary(message) {
    if (!message) return '';
    var lines = String(message).split(/\r?\n/).filter(function (l) { return l.trim() !== ''; });
    if (!lines.length) return '';
    var first = TRACEBACK.test(lines[0]) ? '' : lines[0].trim();
    var last = '';
    for (var i = lines.length - 1; i > 0; i--) {
      if (!/^\s/.test(lines[i]) && !TRACEBACK.test(lines[i])) { last = lines[i].trim(); break; }
    }
    var text = !first ? last || lines[0].trim() : last && last !== first ? first + ' ' + last : first;
    return text.length > 300 ? text.slice(0, 297) + '…' : text;
  }

  function errorCell(message) {
    if (!message) return '<td class="error-summary"></td>';
    return '<td class="error-summary" title="' + esc(message) + '">' + esc(errorSummary(message)) + '</td>';
  }

  function endOf(endMs, now) {  // an end time, or now for what has not ended
    return typeof endMs === 'number' && endMs ? endMs : now;
  }

  function stageDuration(stage, now) {
    if (!stage.submissionTime) return null;
    return endOf(stage.completionTime, now) - stage.submissionTime;
  }

  function jobDuration(job, now) {
    if (typeof job.duration === 'number' && (job.duration > 0 || job.completionTime)) return job.duration;
    return job.submissionTime ? endOf(job.completionTime, now) - job.submissionTime : null;
  }

  function appAttempt(app) {
    return (app.attempts && app.attempts[0]) || {};
  }

  function appLink(appId, rest) {
    return '#/app/' + seg(appId) + '/' + rest;
  }

  function jobHref(appId, jobId) { return appLink(appId, 'job/' + seg(jobId)); }

  function stageHref(appId, stageId, attemptId) {
    return appLink(appId, 'stage/' + seg(stageId) + '/' + seg(attemptId || 0));
  }

  function isRunning(status) {
    return status === 'RUNNING' || status === 'ACTIVE' || status === 'PENDING';
  }

  function table(id, headers, rows, emptyText) {
    var head = headers.map(function (h) {
      return typeof h === 'string' ? '<th>' + esc(h) + '</th>' : '<th class="' + esc(h[1]) + '">' + esc(h[0]) + '</th>';
    }).join('');
    var body = rows.length ? rows.join('') :
      '<tr class="empty"><td colspan="' + headers.length + '">' + esc(emptyText) + '</td></tr>';
    return '<div class="table-wrap"><table id="' + esc(id) + '" class="data"><thead><tr>' + head +
      '</tr></thead><tbody>' + body + '</tbody></table></div>';
  }

  function summaryList(id, items, attrs) {
    return '<dl id="' + esc(id) + '" class="summary"' + (attrs || '') + '>' + items.filter(Boolean).map(function (item) {
      return '<div><dt>' + esc(item[0]) + '</dt><dd' + (item[2] ? ' ' + item[2] : '') + '>' + item[1] + '</dd></div>';
    }).join('') + '</dl>';
  }

  function quantile(sorted, q) {  // linear interpolation between the closest ranks
    if (!sorted.length) return null;
    var pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }

  // ---------------------------------------------------------------- the timeline

  var TICK_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000,
    300000, 600000, 900000, 1800000, 3600000, 7200000, 21600000, 43200000, 86400000];

  function tickLabel(ms, step) {
    if (step < 1000) return (ms / 1000).toFixed(step < 10 ? 3 : step < 100 ? 2 : 1) + ' s';
    if (step < 60000) return Math.round(ms / 1000) + ' s';
    if (step < 3600000) return (ms / 60000).toFixed(step % 60000 ? 1 : 0) + ' min';
    return (ms / 3600000).toFixed(step % 3600000 ? 1 : 0) + ' h';
  }

  // An SVG picture of tasks in time: one row per worker, one rectangle per task from its launch to its end (a
  // running task's end is now), coloured by status. tasks: [{task, stageId, attemptId}].
  function timeline(appId, entries, startMs, endMs, now, width) {
    if (!entries.length) return '<p id="timeline-empty" class="muted">No task has started yet.</p>';
    var workers = [], rowOf = {};
    var t0 = typeof startMs === 'number' && startMs ? startMs : Infinity, t1 = typeof endMs === 'number' ? endMs : 0;
    entries.forEach(function (e) {
      var t = e.task;
      var w = String(t.executorId === null || t.executorId === undefined ? '?' : t.executorId);
      if (!(w in rowOf)) { rowOf[w] = workers.length; workers.push(w); }
      var launch = num(t.launchTime);
      var end = typeof t.duration === 'number' ? launch + t.duration : now;
      e.worker = w; e.start = launch; e.end = Math.max(launch, end);
      t0 = Math.min(t0, launch); t1 = Math.max(t1, e.end);
    });
    if (!isFinite(t0)) t0 = t1;
    var span = Math.max(1, t1 - t0);
    var labelW = 120, rightPad = 16, axisH = 22, rowH = 24;
    var plotW = Math.max(100, width - labelW - rightPad);
    var height = axisH + workers.length * rowH + 6;
    function x(t) { return labelW + (t - t0) / span * plotW; }

    var step = TICK_STEPS[TICK_STEPS.length - 1];
    for (var i = 0; i < TICK_STEPS.length; i++) {
      if (span / TICK_STEPS[i] <= Math.max(2, Math.floor(plotW / 90))) { step = TICK_STEPS[i]; break; }
    }
    var out = [];
    out.push('<svg id="timeline" class="timeline" xmlns="http://www.w3.org/2000/svg" width="' + Math.round(width) +
      '" height="' + height + '" viewBox="0 0 ' + Math.round(width) + ' ' + height + '" role="img" aria-label="' +
      esc('Timeline of ' + entries.length + ' tasks on ' + workers.length + ' workers') + '" data-tasks="' +
      entries.length + '" data-workers="' + workers.length + '" data-start="' + t0 + '" data-end="' + t1 + '">');
    workers.forEach(function (w, row) {
      var y = axisH + row * rowH;
      out.push('<rect class="lane' + (row % 2 ? ' odd' : '') + '" x="0" y="' + y + '" width="' + Math.round(width) +
        '" height="' + rowH + '"></rect>');
      out.push('<text class="lane-label" x="6" y="' + (y + rowH / 2 + 4) + '" data-worker-id="' + esc(w) + '">worker ' +
        esc(w) + '</text>');
    });
    for (var t = 0; t <= span + 0.5; t += step) {
      var tx = x(t0 + t).toFixed(1);
      out.push('<line class="tick" x1="' + tx + '" x2="' + tx + '" y1="' + (axisH - 4) + '" y2="' + (height - 6) +
        '"></line>');
      var anchor = x(t0 + t) > width - 30 ? ' end' : '';  // the last label must not run off the picture
      out.push('<text class="tick-label' + anchor + '" x="' + tx + '" y="' + (axisH - 8) + '">' +
        esc(tickLabel(t, step)) + '</text>');
    }
    entries.forEach(function (e) {
      var task = e.task, row = rowOf[e.worker];
      var x1 = x(e.start), w = Math.max(2, x(e.end) - x1);
      var status = String(task.status || 'UNKNOWN');
      var tip = 'Task ' + task.taskId + ' — stage ' + e.stageId + '.' + e.attemptId + ', partition ' + task.index +
        ', attempt ' + task.attempt + '\nworker ' + e.worker + ' on ' + (task.host || '?') + '\n' + status +
        '\nlaunched ' + fmtClock(e.start, true) + '\n' +
        (typeof task.duration === 'number' ? 'took ' + fmtDuration(task.duration) : 'running for ' +
          fmtDuration(now - e.start)) + (task.errorMessage ? '\n' + errorSummary(task.errorMessage) : '');
      out.push('<a href="' + esc(stageHref(appId, e.stageId, e.attemptId)) + '"><rect class="task st-' + esc(status) +
        '" x="' + x1.toFixed(1) + '" y="' + (axisH + row * rowH + 4) + '" width="' + w.toFixed(1) + '" height="' +
        (rowH - 8) + '" rx="2" data-task-id="' + esc(task.taskId) + '" data-stage-id="' + esc(e.stageId) +
        '" data-attempt-id="' + esc(e.attemptId) + '" data-index="' + esc(task.index) + '" data-executor-id="' +
        esc(e.worker) + '" data-status="' + esc(status) + '"><title>' + esc(tip) + '</title></rect></a>');
    });
    out.push('</svg>');
    return '<div class="timeline-wrap">' + out.join('') + '</div>' +
      '<p class="legend"><span class="swatch st-SUCCESS"></span>succeeded <span class="swatch st-RUNNING"></span>running ' +
      '<span class="swatch st-FAILED"></span>failed <span class="swatch st-KILLED"></span>killed</p>';
  }

  function contentWidth() {  // the width inside the main element's padding
    var main = document.getElementById('content');
    if (!main || !main.clientWidth) return 960;
    var style = getComputedStyle(main);
    return Math.max(480, main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 1);
  }

  // ---------------------------------------------------------------- routes

  function parseRoute(hash) {
    var parts;
    try {
      parts = String(hash || '').replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
    } catch (e) {
      return { page: 'notfound' };
    }
    if (!parts.length) return { page: 'apps', empty: !hash || hash === '#' };
    if (parts[0] !== 'app' || parts.length < 2) return { page: 'notfound' };
    var app = parts[1], rest = parts.slice(2);
    switch (rest[0]) {
      case undefined:
      case 'jobs':
        return rest.length <= 1 ? { page: 'jobs', app: app } : { page: 'notfound' };
      case 'job':
        return rest.length === 2 ? { page: 'job', app: app, jobId: rest[1] } : { page: 'notfound' };
      case 'stages':
        return rest.length === 1 ? { page: 'stages', app: app } : { page: 'notfound' };
      case 'stage':
        return rest.length === 2 || rest.length === 3 ?
          { page: 'stage', app: app, stageId: rest[1], attemptId: rest.length === 3 ? rest[2] : '0' } :
          { page: 'notfound' };
      case 'storage':
        return rest.length === 1 ? { page: 'storage', app: app } : { page: 'notfound' };
      case 'workers':
        return rest.length === 1 ? { page: 'workers', app: app } : { page: 'notfound' };
      default:
        return { page: 'notfound' };
    }
  }

  // The application a page belongs to, then what the page shows of it: more(app) gives a promise of the page's data.
  // The application comes first so that an unknown one is told apart from an unknown job or stage.
  function withApp(appId, more) {
    return getJson('/applications/' + seg(appId)).then(function (app) {
      return more(app);
    }, function (error) {
      if (error.status === 404) error.noApp = true;
      throw error;
    });
  }

  function appHeader(app, now) {
    var a = appAttempt(app);
    return '<p class="app-line" id="app-summary" data-app-id="' + esc(app.id) + '" data-status="' + esc(app.status) + '">' +
      '<strong>' + esc(app.name || app.id) + '</strong> ' + badge(app.status) +
      ' <span class="muted">session ' + esc(app.id) + ' · driver pid ' + esc(app.driverPid) + ' · ' + esc(app.master) +
      ' · started ' + fmtTime(a.startTime) + ' · ' + esc(fmtDuration(typeof a.duration === 'number' ? a.duration :
        a.startTime ? endOf(a.endTime, now) - a.startTime : null)) + '</span></p>';
  }

  var pages = {};

  pages.apps = function (route) {
    return getJson('/applications').then(function (apps) {
      var running = apps.filter(function (a) { return a.status === 'RUNNING'; });
      if (route.empty && running.length === 1) return { redirect: appLink(running[0].id, 'jobs') };
      var now = Date.now();
      var rows = apps.map(function (app) {
        var a = appAttempt(app);
        var duration = typeof a.duration === 'number' ? a.duration : a.startTime ?
          endOf(a.endTime, now) - a.startTime : null;
        return '<tr data-app-id="' + esc(app.id) + '" data-status="' + esc(app.status) + '">' +
          '<td><a href="' + esc(appLink(app.id, 'jobs')) + '">' + esc(app.id) + '</a></td>' +
          '<td>' + esc(app.name) + '</td><td class="num">' + esc(app.driverPid) + '</td><td>' + esc(app.master) +
          '</td><td>' + badge(app.status) + '</td><td>' + fmtTime(a.startTime) + '</td><td class="num">' +
          esc(fmtDuration(duration)) + '</td></tr>';
      });
      return {
        title: 'Applications',
        live: true,
        html: '<h1>Applications</h1><p class="muted">Each application is one driver session.</p>' +
          table('apps-table', ['ID', 'Name', ['Driver PID', 'num'], 'Master', 'Status', 'Started',
            ['Duration', 'num']], rows, 'No application has connected.')
      };
    });
  };

  // "completed/total" of a job's stages, total without the skipped ones. Spark lists every stage of the job in
  // stageIds, skipped and waiting ones too; a server may list only those that started (then none is skipped among
  // them). More ids than started stages means the first.
  function stageText(job) {
    var ids = (job.stageIds || []).length, skipped = num(job.numSkippedStages);
    var started = num(job.numCompletedStages) + num(job.numFailedStages) + num(job.numActiveStages);
    var total = ids > started ? Math.max(started, ids - skipped) : ids;
    return num(job.numCompletedStages) + '/' + total + (skipped ? ' (' + skipped + ' skipped)' : '') +
      (num(job.numFailedStages) ? ' (' + job.numFailedStages + ' failed)' : '');
  }

  function jobRow(appId, job, now) {
    return '<tr data-job-id="' + esc(job.jobId) + '" data-status="' + esc(job.status) + '"' +
      (job.jobGroup ? ' data-job-group="' + esc(job.jobGroup) + '"' : '') + '>' +
      '<td class="num"><a class="job-link" href="' + esc(jobHref(appId, job.jobId)) + '">' + esc(job.jobId) + '</a></td>' +
      '<td class="desc"><a href="' + esc(jobHref(appId, job.jobId)) + '">' + esc(job.name || 'job ' + job.jobId) +
      '</a></td><td>' + esc(job.jobGroup) + '</td><td>' + fmtTime(job.submissionTime) + '</td>' +
      '<td class="num">' + esc(fmtDuration(jobDuration(job, now))) + '</td><td>' + badge(job.status) + '</td>' +
      '<td class="num stages-done">' + esc(stageText(job)) + '</td>' +
      '<td class="tasks">' + progress(job.numCompletedTasks, job.numActiveTasks, job.numFailedTasks, job.numTasks) +
      '</td>' + errorCell(job.errorMessage) + '</tr>';
  }

  pages.jobs = function (route) {
    return withApp(route.app, function (app) {
      return getJson('/applications/' + seg(route.app) + '/jobs').then(function (jobs) {
        var now = Date.now();
        var counts = {};
        jobs.forEach(function (j) { counts[j.status] = (counts[j.status] || 0) + 1; });
        var countText = ['RUNNING', 'SUCCEEDED', 'FAILED'].filter(function (s) { return counts[s]; }).map(function (s) {
          return '<span class="count" data-status="' + s + '">' + counts[s] + ' ' + s.toLowerCase() + '</span>';
        }).join(' · ');
        return {
          app: app,
          title: 'Jobs',
          live: app.status === 'RUNNING',
          html: appHeader(app, now) + '<h1>Jobs</h1>' + (countText ? '<p class="counts">' + countText + '</p>' : '') +
            table('jobs-table', [['Job', 'num'], 'Description', 'Group', 'Submitted', ['Duration', 'num'], 'Status',
              ['Stages', 'num'], 'Tasks', 'Error'], jobs.map(function (j) { return jobRow(route.app, j, now); }),
            'No jobs yet: jobs appear here when the program runs an action.')
        };
      });
    });
  };

  function stageRow(appId, stage, now, withJob) {
    return '<tr data-stage-id="' + esc(stage.stageId) + '" data-attempt-id="' + esc(stage.attemptId) +
      '" data-status="' + esc(stage.status) + '">' +
      '<td class="num"><a class="stage-link" href="' + esc(stageHref(appId, stage.stageId, stage.attemptId)) + '">' +
      esc(stage.stageId) + '</a>' + (num(stage.attemptId) ? ' <span class="muted">(attempt ' + esc(stage.attemptId) +
        ')</span>' : '') + '</td>' +
      (withJob ? '<td class="num"><a href="' + esc(jobHref(appId, stage.jobId)) + '">' + esc(stage.jobId) + '</a></td>' :
        '') +
      '<td class="desc"><a href="' + esc(stageHref(appId, stage.stageId, stage.attemptId)) + '">' + esc(stage.name) +
      '</a></td><td>' + fmtTime(stage.submissionTime) + '</td><td class="num">' +
      esc(fmtDuration(stageDuration(stage, now))) + '</td><td>' + badge(stage.status) + '</td>' +
      '<td class="tasks">' + progress(stage.numCompleteTasks, stage.numActiveTasks, stage.numFailedTasks,
        stage.numTasks) + '</td>' +
      bytesCell(stage.inputBytes) + bytesCell(stage.outputBytes) + bytesCell(stage.shuffleReadBytes) +
      bytesCell(stage.shuffleWriteBytes) + '</tr>';
  }

  // A row for a stage of a job that has no stage object: not started yet, or skipped (its output was there).
  function missingStageRow(stageId, status, withJob) {
    return '<tr data-stage-id="' + esc(stageId) + '" data-status="' + esc(status) + '"><td class="num">' +
      esc(stageId) + '</td>' + (withJob ? '<td></td>' : '') + '<td class="muted">' +
      (status === 'SKIPPED' ? 'skipped: its output was already there' : 'waiting for earlier stages') +
      '</td><td></td><td></td><td>' + badge(status) + '</td><td></td><td></td><td></td><td></td><td></td></tr>';
  }

  var STAGE_HEADERS = [['Stage', 'num'], 'Description', 'Submitted', ['Duration', 'num'], 'Status', 'Tasks',
    ['Input', 'num'], ['Output', 'num'], ['Shuffle read', 'num'], ['Shuffle write', 'num']];

  pages.stages = function (route) {
    return withApp(route.app, function (app) {
      return getJson('/applications/' + seg(route.app) + '/stages').then(function (stages) {
        var now = Date.now();
        var headers = STAGE_HEADERS.slice(0, 1).concat([['Job', 'num']], STAGE_HEADERS.slice(1));
        return {
          app: app,
          title: 'Stages',
          live: app.status === 'RUNNING',
          html: appHeader(app, now) + '<h1>Stages</h1>' + table('stages-table', headers, stages.map(function (s) {
            return stageRow(route.app, s, now, true);
          }), 'No stages yet.')
        };
      });
    });
  };

  function taskListOf(appId, stage) {
    return getJson('/applications/' + seg(appId) + '/stages/' + seg(stage.stageId) + '/' + seg(stage.attemptId || 0) +
      '/taskList?offset=0&length=' + TASK_LIMIT).then(function (tasks) {
      return tasks.map(function (t) { return { task: t, stageId: stage.stageId, attemptId: stage.attemptId || 0 }; });
    });
  }

  pages.job = function (route) {
    var base = '/applications/' + seg(route.app);
    return withApp(route.app, function (app) {
      return Promise.all([getJson(base + '/jobs/' + seg(route.jobId)), getJson(base + '/stages')]).then(function (r) {
        var job = r[0];
        var stages = r[1].filter(function (s) { return String(s.jobId) === String(job.jobId); });
        stages.sort(function (a, b) { return a.stageId - b.stageId || a.attemptId - b.attemptId; });
        return Promise.all(stages.map(function (s) { return taskListOf(route.app, s); })).then(function (lists) {
          return renderJob(route.app, app, job, stages, [].concat.apply([], lists));
        });
      });
    });
  };

  function renderJob(appId, app, job, stages, entries) {
    var now = Date.now();
    var seen = {};
    stages.forEach(function (s) { seen[s.stageId] = true; });
    var rows = stages.map(function (s) { return stageRow(appId, s, now, false); });
    (job.stageIds || []).forEach(function (id) {
      if (!seen[id]) rows.push(missingStageRow(id, isRunning(job.status) ? 'PENDING' : 'SKIPPED', false));
    });
    var summary = summaryList('job-summary', [
      ['Status', badge(job.status)],
      ['Description', '<span id="job-description">' + esc(job.name || 'job ' + job.jobId) + '</span>'],
      job.jobGroup ? ['Job group', esc(job.jobGroup)] : null,
      ['Submitted', fmtTime(job.submissionTime)],
      ['Completed', fmtTime(job.completionTime)],
      ['Duration', esc(fmtDuration(jobDuration(job, now)))],
      ['Stages', esc(stageText(job))],
      ['Tasks', progress(job.numCompletedTasks, job.numActiveTasks, job.numFailedTasks, job.numTasks)]
    ], ' data-job-id="' + esc(job.jobId) + '" data-status="' + esc(job.status) + '"');
    var error = job.errorMessage ?
      '<h2>Error</h2><pre id="job-error" class="error">' + esc(job.errorMessage) + '</pre>' : '';
    var html = appHeader(app, now) +
      '<nav class="crumbs"><a href="' + esc(appLink(appId, 'jobs')) + '">Jobs</a> › Job ' + esc(job.jobId) + '</nav>' +
      '<h1>Job ' + esc(job.jobId) + ' ' + badge(job.status) + '</h1>' + summary + error +
      '<h2>Timeline</h2>' + timeline(appId, entries, job.submissionTime, job.completionTime ||
        (isRunning(job.status) ? now : 0), now, contentWidth()) +
      '<h2>Stages</h2>' + table('job-stages', STAGE_HEADERS, rows, 'No stage has started yet.');
    return {
      app: app,
      title: 'Job ' + job.jobId,
      live: app.status === 'RUNNING' && (isRunning(job.status) || stages.some(function (s) {
        return isRunning(s.status);
      })),
      html: html
    };
  }

  pages.stage = function (route) {
    var path = '/applications/' + seg(route.app) + '/stages/' + seg(route.stageId) + '/' + seg(route.attemptId);
    return withApp(route.app, function (app) {
      return Promise.all([getJson(path), getJson(path + '/taskList?offset=0&length=' + TASK_LIMIT)]).then(function (r) {
        return renderStage(route.app, app, r[0], r[1]);
      });
    });
  };

  function taskRow(task, now) {
    var m = task.taskMetrics || {};
    var shuffleRead = m.shuffleReadMetrics ? m.shuffleReadMetrics.localBytesRead : 0;
    var shuffleWrite = m.shuffleWriteMetrics ? m.shuffleWriteMetrics.bytesWritten : 0;
    var input = m.inputMetrics ? m.inputMetrics.bytesRead : 0;
    var output = m.outputMetrics ? m.outputMetrics.bytesWritten : 0;
    var spill = num(m.diskBytesSpilled);
    var running = typeof task.duration !== 'number';
    return '<tr data-task-id="' + esc(task.taskId) + '" data-index="' + esc(task.index) + '" data-attempt="' +
      esc(task.attempt) + '" data-executor-id="' + esc(task.executorId) + '" data-status="' + esc(task.status) + '">' +
      '<td class="num">' + esc(task.index) + '</td><td class="num">' + esc(task.taskId) + '</td><td class="num">' +
      esc(task.attempt) + '</td><td class="num">' + esc(task.executorId) + '</td><td>' + esc(task.host) + '</td><td>' +
      badge(task.status) + '</td><td>' + fmtTime(task.launchTime) + '</td><td class="num"' +
      (running ? ' title="still running"' : '') + '>' + esc(fmtDuration(running ? now - num(task.launchTime) :
        task.duration)) + (running ? '…' : '') + '</td>' + bytesCell(input) + bytesCell(output) +
      bytesCell(shuffleRead) + bytesCell(shuffleWrite) + '<td class="num" data-bytes="' + spill + '" title="' +
      esc('memory ' + fmtBytes(num(m.memoryBytesSpilled)) + ', disk ' + fmtBytes(num(m.diskBytesSpilled))) + '">' +
      (spill ? esc(fmtBytes(spill)) : '') + '</td>' + errorCell(task.errorMessage) + '</tr>';
  }

  function renderStage(appId, app, stage, tasks) {
    var now = Date.now();
    var durations = tasks.filter(function (t) { return typeof t.duration === 'number' && t.status === 'SUCCESS'; })
      .map(function (t) { return t.duration; }).sort(function (a, b) { return a - b; });
    var q = [0, 0.25, 0.5, 0.75, 1].map(function (p) { return quantile(durations, p); });
    var skew = durations.length ? summaryList('task-skew', [
      ['Tasks measured', esc(durations.length)],
      ['Min', esc(fmtDuration(q[0])), 'data-ms="' + q[0] + '"'],
      ['25th percentile', esc(fmtDuration(q[1]))],
      ['Median', esc(fmtDuration(q[2])), 'data-ms="' + q[2] + '"'],
      ['75th percentile', esc(fmtDuration(q[3]))],
      ['Max', esc(fmtDuration(q[4])), 'data-ms="' + q[4] + '"'],
      ['Max / median', q[2] > 0 ? esc((q[4] / q[2]).toFixed(2) + '×') : '–']
    ], ' data-count="' + durations.length + '" data-min="' + q[0] + '" data-median="' + q[2] + '" data-max="' + q[4] +
      '"') : '<p id="task-skew" class="muted" data-count="0">No task has finished yet.</p>';
    var summary = summaryList('stage-summary', [
      ['Status', badge(stage.status)],
      ['Description', esc(stage.name)],
      ['Job', '<a href="' + esc(jobHref(appId, stage.jobId)) + '">' + esc(stage.jobId) + '</a>'],
      ['Tasks', progress(stage.numCompleteTasks, stage.numActiveTasks, stage.numFailedTasks, stage.numTasks)],
      ['Submitted', fmtTime(stage.submissionTime)],
      ['Completed', fmtTime(stage.completionTime)],
      ['Duration', esc(fmtDuration(stageDuration(stage, now)))],
      ['Task time (sum)', esc(fmtDuration(num(stage.executorRunTime)))],
      ['Input', esc(fmtBytes(num(stage.inputBytes))), 'data-bytes="' + num(stage.inputBytes) + '"'],
      ['Output', esc(fmtBytes(num(stage.outputBytes))), 'data-bytes="' + num(stage.outputBytes) + '"'],
      ['Shuffle read', esc(fmtBytes(num(stage.shuffleReadBytes))), 'data-bytes="' + num(stage.shuffleReadBytes) + '"'],
      ['Shuffle write', esc(fmtBytes(num(stage.shuffleWriteBytes))), 'data-bytes="' + num(stage.shuffleWriteBytes) +
        '"'],
      ['Spilled (memory)', esc(fmtBytes(num(stage.memoryBytesSpilled)))],
      ['Spilled (disk)', esc(fmtBytes(num(stage.diskBytesSpilled)))]
    ], ' data-stage-id="' + esc(stage.stageId) + '" data-attempt-id="' + esc(stage.attemptId) + '" data-status="' +
      esc(stage.status) + '"');
    var failed = tasks.filter(function (t) { return t.errorMessage; });
    var errors = failed.length ? '<h2>Task errors</h2>' + failed.map(function (t) {
      return '<h3>Task ' + esc(t.taskId) + ' (partition ' + esc(t.index) + ', attempt ' + esc(t.attempt) + ')</h3>' +
        '<pre class="error task-error" data-task-id="' + esc(t.taskId) + '">' + esc(t.errorMessage) + '</pre>';
    }).join('') : '';
    var entries = tasks.map(function (t) { return { task: t, stageId: stage.stageId, attemptId: stage.attemptId || 0 }; });
    var html = appHeader(app, now) +
      '<nav class="crumbs"><a href="' + esc(appLink(appId, 'jobs')) + '">Jobs</a> › <a href="' +
      esc(jobHref(appId, stage.jobId)) + '">Job ' + esc(stage.jobId) + '</a> › Stage ' + esc(stage.stageId) +
      (num(stage.attemptId) ? ' (attempt ' + esc(stage.attemptId) + ')' : '') + '</nav>' +
      '<h1>Stage ' + esc(stage.stageId) + (num(stage.attemptId) ? ' <small>attempt ' + esc(stage.attemptId) +
        '</small>' : '') + ' ' + badge(stage.status) + '</h1>' + summary +
      '<h2>Task duration</h2>' + skew +
      '<h2>Timeline</h2>' + timeline(appId, entries, stage.submissionTime, stage.completionTime ||
        (isRunning(stage.status) ? now : 0), now, contentWidth()) +
      '<h2>Tasks <small class="muted">(' + tasks.length + ')</small></h2>' +
      table('stage-tasks', [['Index', 'num'], ['Task', 'num'], ['Attempt', 'num'], ['Worker', 'num'], 'Host', 'Status',
        'Launched', ['Duration', 'num'], ['Input', 'num'], ['Output', 'num'], ['Shuffle read', 'num'],
        ['Shuffle write', 'num'], ['Spilled (disk)', 'num'], 'Error'], tasks.map(function (t) { return taskRow(t, now); }),
      'No task has started yet.') + errors;
    return {
      app: app,
      title: 'Stage ' + stage.stageId,
      live: app.status === 'RUNNING' && (isRunning(stage.status) || tasks.some(function (t) {
        return t.status === 'RUNNING';
      })),
      html: html
    };
  }

  pages.storage = function (route) {
    return withApp(route.app, function (app) {
      return getJson('/applications/' + seg(route.app) + '/storage/rdd').then(function (rdds) {
        var rows = rdds.map(function (rdd) {
          var cached = num(rdd.numCachedPartitions), parts = num(rdd.numPartitions);
          return '<tr data-rdd-id="' + esc(rdd.id) + '" data-cached-partitions="' + cached + '" data-partitions="' +
            parts + '"><td class="num">' + esc(rdd.id) + '</td><td>' + esc(rdd.name) + '</td><td>' +
            esc(rdd.storageLevel) + '</td><td class="num cached-partitions">' + esc(cached + '/' + parts) +
            '</td><td class="num">' + esc(percent(cached, parts).toFixed(0) + '%') + '</td>' +
            bytesCell(rdd.memoryUsed) + bytesCell(rdd.diskUsed) + '</tr>';
        });
        return {
          app: app,
          title: 'Storage',
          live: app.status === 'RUNNING',
          html: appHeader(app, Date.now()) + '<h1>Storage</h1>' + table('storage-table', [['RDD', 'num'], 'Name',
            'Storage level', ['Cached partitions', 'num'], ['Cached', 'num'], ['Memory', 'num'], ['Disk', 'num']],
          rows, 'No RDD is cached: persist() or cache() one and run an action on it.')
        };
      });
    });
  };

  pages.workers = function (route) {
    return withApp(route.app, function (app) {
      return getJson('/applications/' + seg(route.app) + '/executors').then(function (workers) {
        var rows = workers.map(function (w) {
          return '<tr data-worker-id="' + esc(w.id) + '" data-busy="' + (w.isActive ? 'true' : 'false') + '">' +
            '<td class="num">' + esc(w.id) + '</td><td>' + esc(w.hostPort) + '</td><td>' + esc(w.transport) + '</td>' +
            '<td>' + (w.isActive ? '<span class="status st-RUNNING" data-status="BUSY">busy</span>' :
              '<span class="status st-IDLE" data-status="IDLE">idle</span>') + '</td>' +
            '<td class="num">' + esc(num(w.activeTasks)) + '</td><td class="num">' + esc(num(w.completedTasks)) +
            '</td><td class="num' + (num(w.failedTasks) ? ' failed' : '') + '">' + esc(num(w.failedTasks)) + '</td>' +
            '<td class="num">' + esc(fmtDuration(num(w.totalDuration))) + '</td>' +
            '<td class="num">' + (typeof w.rssBytes === 'number' ? esc(fmtBytes(w.rssBytes)) :
              '<span class="muted" title="not known on this system">–</span>') + '</td>' +
            '<td class="num">' + (w.isActive ? '' : esc(fmtDuration(num(w.idleMs)))) + '</td></tr>';
        });
        return {
          app: app,
          title: 'Workers',
          live: app.status === 'RUNNING',
          html: appHeader(app, Date.now()) + '<h1>Workers</h1><p class="muted">The Python worker processes of this ' +
            'session.</p>' + table('workers-table', [['PID', 'num'], 'Host', 'Transport', 'State',
            ['Active tasks', 'num'], ['Completed', 'num'], ['Failed', 'num'], ['Task time', 'num'], ['RSS', 'num'],
            ['Idle for', 'num']], rows, 'No Python worker is running for this session.')
        };
      });
    });
  };

  pages.notfound = function () {
    return Promise.resolve({
      title: 'Not found',
      live: false,
      html: '<div id="error-message" class="message" data-error="404"><h1>Not found</h1><p>There is no page at ' +
        esc(location.hash) + '. <a href="#/">Applications</a></p></div>'
    });
  };

  // ---------------------------------------------------------------- rendering and live updates

  // Makes the children of `have` like those of `want`, changing only the nodes that differ: a refresh then keeps what
  // did not change (a text selection, the element under the mouse, its tooltip) as it was.
  function patch(have, want) {
    var haveKids = have.childNodes, wantKids = want.childNodes;
    for (var i = 0; i < wantKids.length; i++) {
      var from = wantKids[i], to = haveKids[i];
      if (!to) {
        have.appendChild(from.cloneNode(true));
      } else if (to.nodeType !== from.nodeType || to.nodeName !== from.nodeName) {
        have.replaceChild(from.cloneNode(true), to);
      } else if (to.nodeType === 1) {
        syncAttributes(to, from);
        patch(to, from);
      } else if (to.nodeValue !== from.nodeValue) {
        to.nodeValue = from.nodeValue;
      }
    }
    while (haveKids.length > wantKids.length) have.removeChild(have.lastChild);
  }

  function syncAttributes(to, from) {
    var i, name;
    for (i = to.attributes.length - 1; i >= 0; i--) {
      name = to.attributes[i].name;
      if (name !== 'style' && !from.hasAttribute(name)) to.removeAttribute(name);
    }
    for (i = 0; i < from.attributes.length; i++) {
      name = from.attributes[i].name;
      if (to.getAttribute(name) !== from.attributes[i].value) to.setAttribute(name, from.attributes[i].value);
    }
  }

  function setContent(html) {
    if (html === state.lastHtml) return;
    var main = document.getElementById('content');
    if (state.lastHtml === null) {
      main.innerHTML = html;  // a new page: nothing of the old one to keep
    } else {
      var fresh = document.createElement('template');
      fresh.innerHTML = html;
      patch(main, fresh.content);
    }
    state.lastHtml = html;
    var bars = main.querySelectorAll('[data-width]');
    for (var i = 0; i < bars.length; i++) bars[i].style.width = bars[i].getAttribute('data-width') + '%';
  }

  function setBanner(text) {
    var banner = document.getElementById('banner');
    if (text) {
      banner.textContent = text;
      banner.hidden = false;
    } else {
      banner.hidden = true;
      banner.textContent = '';
    }
  }

  function updateNav(route, app) {
    var appNav = document.getElementById('nav-app');
    document.getElementById('nav-apps').className = route.page === 'apps' ? 'active' : '';
    if (!route.app) { appNav.hidden = true; return; }
    appNav.hidden = false;
    document.getElementById('nav-app-name').textContent = app ? (app.name || app.id) + ' (' + app.id + ')' : route.app;
    var links = appNav.querySelectorAll('a[data-page]');
    var current = { job: 'jobs', stage: 'stages' }[route.page] || route.page;
    for (var i = 0; i < links.length; i++) {
      var page = links[i].getAttribute('data-page');
      links[i].setAttribute('href', appLink(route.app, page));
      links[i].className = page === current ? 'active' : '';
    }
  }

  function loadVersion() {
    if (state.version) return;
    getJson('/version').then(function (v) {
      state.version = v.ember || v.version || '';
      document.getElementById('ember-version').textContent = 'Ember ' + state.version;
    }, function () { /* shown with the page's own error */ });
  }

  function failureHtml(route, error) {
    if (error.status === 401 || error.status === 403) {
      return '<div id="error-message" class="message" data-error="' + esc(error.status) + '"><h1>Not authorized</h1>' +
        '<p>This Ember UI is protected. Open it once with the service\'s secret: <code>' + esc(location.origin) +
        '/login?token=&lt;secret&gt;</code>, where the secret is the token in the service\'s ' +
        '<code>run/gateway.json</code>. The browser keeps a cookie after that.</p></div>';
    }
    if (error.status === 404) {
      var back = route.app && !error.noApp && route.page !== 'jobs' ?
        '<a href="' + esc(appLink(route.app, 'jobs')) + '">Jobs of this application</a> · ' : '';
      return '<div id="error-message" class="message" data-error="404"><h1>Not found</h1><p>' + esc(error.message) +
        '</p><p>' + back + '<a href="#/">Applications</a></p></div>';
    }
    return null;
  }

  function schedule(generation, delay) {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
    if (delay === null) return;
    state.timer = setTimeout(function () {
      state.timer = null;
      if (generation !== state.generation) return;
      if (document.hidden) { schedule(generation, delay); return; }  // a hidden tab fetches nothing
      refresh(generation);
    }, delay);
  }

  function refresh(generation) {
    var route = parseRoute(location.hash);
    var sequence = ++state.sequence;
    loadVersion();
    var render = pages[route.page] || pages.notfound;
    return render(route).then(function (result) {
      if (generation !== state.generation || sequence < state.shown) return;
      state.shown = sequence;
      if (result.redirect) { location.replace(result.redirect); return; }
      state.rendered = true;
      setBanner(null);
      setContent(result.html);
      updateNav(route, result.app);
      document.title = result.title + (result.app ? ' · ' + (result.app.name || result.app.id) : '') + ' · Ember';
      document.body.setAttribute('data-page', route.page);
      document.body.setAttribute('data-live', result.live ? 'true' : 'false');
      schedule(generation, result.live ? REFRESH_MS : null);
    }).catch(function (error) {
      if (generation !== state.generation || sequence < state.shown) return;
      state.shown = sequence;
      var html = failureHtml(route, error);
      if (html) {
        state.rendered = false;
        setBanner(null);
        setContent(html);
        updateNav(error.noApp ? { page: 'notfound' } : route, null);
        document.title = (error.status === 404 ? 'Not found' : 'Not authorized') + ' · Ember';
      } else if (!state.rendered) {
        setContent('<div id="error-message" class="message" data-error="' + esc(error.status || 'error') + '"><h1>' +
          'Cannot load this page</h1><p>' + esc(error.message || error) + '</p></div>');
      } else {
        setBanner('Not updating: ' + (error.message || error) + '. Retrying…');
      }
      if (!(error instanceof HttpError)) console.error(error);
      schedule(generation, RETRY_MS);
    });
  }

  function onRouteChange() {
    state.generation++;
    state.lastHtml = null;
    state.rendered = false;
    schedule(state.generation, null);
    window.scrollTo(0, 0);
    refresh(state.generation);
  }

  window.addEventListener('hashchange', onRouteChange);
  var resizeTimer = null;
  window.addEventListener('resize', function () {  // the timeline is drawn to the page's width
    if (resizeTimer) clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (document.getElementById('timeline')) refresh(state.generation);
    }, 200);
  });
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', onRouteChange);
  } else {
    onRouteChange();
  }
})();
