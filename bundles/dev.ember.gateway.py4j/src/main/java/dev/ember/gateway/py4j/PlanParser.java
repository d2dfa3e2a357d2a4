package dev.ember.gateway.py4j;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import dev.ember.api.JobPlan;
import dev.ember.api.StageInput;
import dev.ember.api.StagePlan;

/**
 * Reads a job plan sent by a driver:
 *
 * <pre>
 * {"stages": [{"id": 0, "numPartitions": 2, "commandId": "…", "command": "&lt;base64&gt;",
 *              "input": {"kind": "dataset", "dataset": 3} | {"kind": "empty"},
 *              "inputCodec": "pickle", "outputCodec": "pickle"}],
 *  "partitions": [0, 1], "jobGroup": null}
 * </pre>
 *
 * A large command is uploaded through the side socket instead and named by {@code "commandBlob": id} in place of
 * {@code "command"}, so no bulk data travels through Py4J.
 */
final class PlanParser {

    private static final List<String> PLAN_FIELDS = List.of("stages", "partitions", "jobGroup");
    private static final List<String> STAGE_FIELDS = List.of("id", "numPartitions", "commandId", "command", "commandBlob", "input",
            "inputCodec", "outputCodec");
    private static final List<String> INPUT_FIELDS = List.of("kind", "dataset");

    private PlanParser() {
    }

    /** Looks up command blobs uploaded through the side socket. */
    interface Blobs {
        byte[] take(int blobId);
    }

    static JobPlan parse(String planJson, Blobs blobs) {
        JsonObject plan = Json.parseObject(planJson, "job plan");
        Json.rejectUnknown(plan, "job plan", PLAN_FIELDS);
        JsonElement stagesElement = Json.required(plan, "stages", "job plan");
        if (!stagesElement.isJsonArray()) {
            throw new IllegalArgumentException("job plan field 'stages' must be an array");
        }
        List<StagePlan> stages = new ArrayList<>();
        JsonArray stageArray = stagesElement.getAsJsonArray();
        for (int i = 0; i < stageArray.size(); i++) {
            stages.add(parseStage(stageArray.get(i), "job plan stage " + i, blobs));
        }
        JsonElement partitionsElement = Json.required(plan, "partitions", "job plan");
        if (!partitionsElement.isJsonArray()) {
            throw new IllegalArgumentException("job plan field 'partitions' must be an array of integers");
        }
        JsonArray partitionArray = partitionsElement.getAsJsonArray();
        int[] partitions = new int[partitionArray.size()];
        for (int i = 0; i < partitions.length; i++) {
            partitions[i] = Json.asInt(partitionArray.get(i), "job plan partitions[" + i + "]");
        }
        JsonElement group = plan.get("jobGroup");
        String jobGroup = group == null || group.isJsonNull() ? null : Json.string(plan, "jobGroup", "job plan");
        return new JobPlan(stages, partitions, jobGroup);
    }

    private static StagePlan parseStage(JsonElement element, String what, Blobs blobs) {
        if (!element.isJsonObject()) {
            throw new IllegalArgumentException(what + " must be an object");
        }
        JsonObject stage = element.getAsJsonObject();
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
        JsonElement inputElement = Json.required(stage, "input", what);
        if (!inputElement.isJsonObject()) {
            throw new IllegalArgumentException(what + " field 'input' must be an object");
        }
        return new StagePlan(
                Json.integer(stage, "id", what),
                Json.integer(stage, "numPartitions", what),
                Json.string(stage, "commandId", what),
                command,
                parseInput(inputElement.getAsJsonObject(), what + " input"),
                Json.string(stage, "inputCodec", what),
                Json.string(stage, "outputCodec", what));
    }

    private static StageInput parseInput(JsonObject input, String what) {
        Json.rejectUnknown(input, what, INPUT_FIELDS);
        String kind = Json.string(input, "kind", what);
        return switch (kind) {
            case "empty" -> StageInput.empty();
            case "dataset" -> StageInput.dataset(Json.integer(input, "dataset", what));
            default -> throw new IllegalArgumentException(what + " has an unknown kind '" + kind
                    + "' (known: empty, dataset)");
        };
    }
}
