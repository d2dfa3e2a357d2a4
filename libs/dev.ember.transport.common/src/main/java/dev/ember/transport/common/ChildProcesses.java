package dev.ember.transport.common;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import dev.ember.api.worker.WorkerSpec;

/** Starting Python processes the way every transport does, and describing how they ended. */
public final class ChildProcesses {

    private ChildProcesses() {
    }

    /** Starts {@code python -m module} with the spec's environment plus {@code extraEnv}. */
    public static Process startPython(WorkerSpec spec, String module, Map<String, String> extraEnv,
            boolean mergeStderr) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(List.of(spec.pythonExec(), "-m", module));
        builder.environment().putAll(spec.env());
        builder.environment().putAll(extraEnv);
        builder.redirectErrorStream(mergeStderr);
        try {
            return builder.start();
        } catch (IOException e) {
            throw new IOException("cannot start Python '" + spec.pythonExec() + "': " + e.getMessage()
                    + " (set spark.pyspark.python or PYSPARK_PYTHON to a working interpreter)", e);
        }
    }

    /** ": exit code N (killed by signal S); its last output: …", or "" while the process runs. */
    public static String describeExit(ProcessHandle process, Integer exitCode, String output) {
        if (process.isAlive()) {
            return "";
        }
        String how = "";
        String code = "";
        if (exitCode != null) {
            code = ": exit code " + exitCode;
            if (exitCode > 128) {
                how = " (killed by signal " + (exitCode - 128) + ")";
            }
        } else {
            code = ": it exited";
        }
        return code + how + (output.isEmpty() ? "" : "; its last output:\n" + output);
    }

    /** Kills a process now; true if it was alive. */
    public static boolean kill(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false);
    }
}
