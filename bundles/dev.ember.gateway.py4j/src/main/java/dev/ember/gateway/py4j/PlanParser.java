package dev.ember.gateway.py4j;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import dev.ember.api.engine.JobPlan;
import dev.ember.api.engine.InputSegment;
import dev.ember.api.engine.StageOutput;
import dev.ember.api.engine.StagePlan;

/**
 * Reads a job plan sent by a driver:
 *
 * <pre>
 * {"stages": [{"id": 0, "commandId": "…", "command": "&lt;base64&gt;",
 *              "input": [{"kind": "dataset", "id": 3, "count": 2}, {"kind": "shuffle", "id": 1, "count": 4}, …],
 *              "output": {"kind": "result"} | {"kind": "shuffle", "id": 1, "numReducers": 4} | {"kind": "cache", "id": 7},
 *              "broadcasts": [2],
 *              "inputCodec": "pickle", "outputCodec": "pickle", "barrier": false, "aligned": false}],
 *  "partitions": [0, 1], "jobGroup": null, "callSite": "collect at wordcount.py:12"}
 * </pre>
 *
 * Input kinds are {@code empty} (no id), {@code dataset}, {@code shuffle}, {@code cache} and {@code files} (an
 * input opened with {@code openFiles}); output kinds {@code result}, {@code shuffle}, {@code cache} and
 * {@code files} (an output made with {@code createOutput}, last stage only). A large command is
 * uploaded through the side socket instead and named by {@code "commandBlob": id} in place of {@code "command"}, so
 * no bulk data travels through Py4J. {@code callSite} (optional) says where the driver's program asked for the job,
 * for the log and the shell; it is cut to {@value #MAX_CALL_SITE} characters, control characters shown as '?'.
 */
final class PlanParser {

    private static final List<String> PLAN_FIELDS = List.of("stages", "partitions", "jobGroup", "callSite");
    static final int MAX_CALL_SITE = 200;
    private static final List<String> STAGE_FIELDS = List.of("id", "commandId", "command", "commandBlob", "input",
            "output", "broadcasts", "inputCodec", "outputCodec", "barrier", "aligned");
    private static final List<String> SEGMENT_FIELDS = List.of("kind", "id", "count");
    private static final List<String> OUTPUT_FIELDS = List.of("kind", "id", "numReducers");

    private PlanParser() {
    }

    /** Looks up command blobs uploaded through the side socket. */
    interface Blobs {
        byte[] take(int blobId);
    }

    static JobPlan parse(String planJson, Blobs blobs) {
        JsonObject plan = Json.parseObject(planJson, "job plan");
        Json.rejectUnknown(plan, "job plan", PLAN_FIELDS);
        List<StagePlan> stages = new ArrayList<>();
        JsonArray stageArray = Json.array(plan, "stages", "job plan");
        for (int i = 0; i < stageArray.size(); i++) {
            stages.add(parseStage(stageArray.get(i), "job plan stage " + i, blobs));
        }
        JsonArray partitionArray = Json.array(plan, "partitions", "job plan");
        int[] partitions = new int[partitionArray.size()];
        for (int i = 0; i < partitions.length; i++) {
            partitions[i] = Json.asInt(partitionArray.get(i), "job plan partitions[" + i + "]");
        }
        JsonElement group = plan.get("jobGroup");
        String jobGroup = group == null || group.isJsonNull() ? null : Json.string(plan, "jobGroup", "job plan");
        JsonElement site = plan.get("callSite");
        String callSite = site == null || site.isJsonNull() ? null
                : printable(Json.string(plan, "callSite", "job plan"));
        return new JobPlan(stages, partitions, jobGroup, callSite);
    }

    /** A driver's text as the log and the shell may show it: one line, at most {@value #MAX_CALL_SITE} chars. */
    static String printable(String text) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_CALL_SITE));
        for (int i = 0; i < text.length() && i < MAX_CALL_SITE; i++) {
            char c = text.charAt(i);
            out.append(Character.isISOControl(c) ? '?' : c);
        }
        return out.toString();
    }

    private static StagePlan parseStage(JsonElement element, String what, Blobs blobs) {
        JsonObject stage = Json.asObject(element, what);
        Json.rejectUnknown(stage, what, STAGE_FIELDS);
        byte[] command;
        if (stage.has("commandBlob")) {
            int blobId = Json.integer(stage, "commandBlob", what);
            command = blobs.take(blobId);
            if (command == null) {
                throw new IllegalArgumentException(what + " names command blob " + blobId + ", which was not uploaded");
            }
        } else {
            try {
                command = Base64.getDecoder().decode(Json.string(stage, "command", what));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(what + " field 'command' is not base64: " + e.getMessage());
            }
        }
        List<InputSegment> input = new ArrayList<>();
        JsonArray segments = Json.array(stage, "input", what);
        for (int i = 0; i < segments.size(); i++) {
            input.add(parseSegment(Json.asObject(segments.get(i), what + " input[" + i + "]"), what + " input[" + i + "]"));
        }
        List<Integer> broadcasts = new ArrayList<>();
        if (stage.has("broadcasts")) {
            JsonArray ids = Json.array(stage, "broadcasts", what);
            for (int i = 0; i < ids.size(); i++) {
                broadcasts.add(Json.asInt(ids.get(i), what + " broadcasts[" + i + "]"));
            }
        }
        return new StagePlan(
                Json.integer(stage, "id", what),
                Json.string(stage, "commandId", what),
                command,
                input,
                parseOutput(Json.asObject(Json.required(stage, "output", what), what + " output"), what + " output"),
                broadcasts,
                Json.string(stage, "inputCodec", what),
                Json.string(stage, "outputCodec", what),
                stage.has("barrier") && Json.bool(stage, "barrier", what),
                stage.has("aligned") && Json.bool(stage, "aligned", what));
    }

    private static InputSegment parseSegment(JsonObject segment, String what) {
        Json.rejectUnknown(segment, what, SEGMENT_FIELDS);
        String kind = Json.string(segment, "kind", what);
        int count = Json.integer(segment, "count", what);
        return switch (kind) {
            case "empty" -> InputSegment.empty(count);
            case "dataset" -> InputSegment.dataset(Json.integer(segment, "id", what), count);
            case "shuffle" -> InputSegment.shuffle(Json.integer(segment, "id", what), count);
            case "cache" -> InputSegment.cache(Json.integer(segment, "id", what), count);
            case "files" -> InputSegment.files(Json.integer(segment, "id", what), count);
            default -> throw new IllegalArgumentException(what + " has an unknown kind '" + kind
                    + "' (known: empty, dataset, shuffle, cache, files)");
        };
    }

    private static StageOutput parseOutput(JsonObject output, String what) {
        Json.rejectUnknown(output, what, OUTPUT_FIELDS);
        String kind = Json.string(output, "kind", what);
        return switch (kind) {
            case "result" -> StageOutput.result();
            case "shuffle" -> StageOutput.shuffle(Json.integer(output, "id", what),
                    Json.integer(output, "numReducers", what));
            case "cache" -> StageOutput.cache(Json.integer(output, "id", what));
            case "files" -> StageOutput.files(Json.integer(output, "id", what));
            default -> throw new IllegalArgumentException(what + " has an unknown kind '" + kind
                    + "' (known: result, shuffle, cache, files)");
        };
    }
}
