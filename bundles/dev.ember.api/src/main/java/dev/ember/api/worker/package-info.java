/**
 * How a scheduler reaches Python workers: {@link dev.ember.api.worker.WorkerTransport} services start them and
 * hand back connected channels; {@link dev.ember.api.worker.WorkerPoolStatus} shows the workers a node holds.
 */
@Export
@Version("1.0.0")
package dev.ember.api.worker;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
