/**
 * Line-based files for the codec bundles: split-aware reading with UTF-8 validation, and writing. Not exported:
 * each codec bundle that uses it copies the package in.
 */
package dev.ember.codec.lines;
