/**
 * The frame protocol spoken between the JVM, Python workers and drivers: length-prefixed frames and the control
 * codes.
 */
@Export
@Version("1.1.0")
package dev.ember.api.frames;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
