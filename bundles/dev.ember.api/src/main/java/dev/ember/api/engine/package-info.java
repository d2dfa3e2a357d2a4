/**
 * The scheduler contract: {@link dev.ember.api.engine.Engine} services, named by {@code ember.engine}, open
 * sessions for drivers and run job plans in them; listeners observe the jobs.
 */
@Export
@Version("1.3.0")
package dev.ember.api.engine;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
