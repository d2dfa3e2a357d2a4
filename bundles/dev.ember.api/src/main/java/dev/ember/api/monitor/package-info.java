/**
 * What happened in the engines, for observers such as the web UI: engines call every registered
 * {@link dev.ember.api.monitor.EngineMonitor} (a whiteboard service) with sessions, jobs, stages and tasks as they
 * start and end; a {@link dev.ember.api.monitor.WebUi} service says where the UI serves them.
 */
@Export
@Version("1.0.0")
package dev.ember.api.monitor;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
