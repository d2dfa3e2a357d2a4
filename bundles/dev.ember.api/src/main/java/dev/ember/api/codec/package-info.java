/**
 * Record formats: {@link dev.ember.api.codec.Codec} services, named by {@code ember.codec}, frame records and read
 * and write files of their format.
 */
@Export
@Version("1.0.0")
package dev.ember.api.codec;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
