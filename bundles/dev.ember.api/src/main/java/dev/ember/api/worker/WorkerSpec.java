package dev.ember.api.worker;

import java.util.Map;
import java.util.Objects;

/**
 * How to start a Python worker.
 *
 * @param pythonExec the interpreter
 * @param env        extra environment variables
 */
public record WorkerSpec(String pythonExec, Map<String, String> env) {

    public WorkerSpec {
        Objects.requireNonNull(pythonExec, "pythonExec");
        env = Map.copyOf(env);
    }
}
