package dev.ember.gateway.py4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ember.api.JobPlan;
import dev.ember.api.StageInput;
import dev.ember.api.StagePlan;

class PlanParserTest {

    private static final PlanParser.Blobs NO_BLOBS = id -> null;

    private static String stage(String inputJson, String commandField) {
        return "{\"id\":0,\"numPartitions\":3,\"commandId\":\"abc\"," + commandField + ",\"input\":" + inputJson
                + ",\"inputCodec\":\"pickle\",\"outputCodec\":\"pickle\"}";
    }

    private static String plan(String stageJson, String partitions) {
        return "{\"stages\":[" + stageJson + "],\"partitions\":" + partitions + ",\"jobGroup\":null}";
    }

    private static String inlineCommand(String text) {
        return "\"command\":\"" + Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8)) + "\"";
    }

    @Test
    void parsesADatasetStage() {
        JobPlan plan = PlanParser.parse(plan(stage("{\"kind\":\"dataset\",\"dataset\":7}", inlineCommand("fn")),
                "[2,0]"), NO_BLOBS);
        StagePlan stage = plan.resultStage();
        assertEquals(3, stage.numPartitions());
        assertEquals("abc", stage.commandId());
        assertArrayEquals("fn".getBytes(StandardCharsets.UTF_8), stage.command());
        assertEquals(StageInput.dataset(7), stage.input());
        assertArrayEquals(new int[] { 2, 0 }, plan.partitions());
        assertNull(plan.jobGroup());
    }

    @Test
    void takesALargeCommandFromAnUploadedBlob() {
        Map<Integer, byte[]> blobs = new java.util.HashMap<>(Map.of(4, new byte[] { 9, 8, 7 }));
        JobPlan plan = PlanParser.parse(plan(stage("{\"kind\":\"empty\"}", "\"commandBlob\":4"), "[0]"), blobs::remove);
        assertArrayEquals(new byte[] { 9, 8, 7 }, plan.resultStage().command());
        assertEquals(StageInput.empty(), plan.resultStage().input());
        assertTrue(blobs.isEmpty(), "a blob is used once");
    }

    @Test
    void rejectsAMissingBlob() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanParser.parse(plan(stage("{\"kind\":\"empty\"}", "\"commandBlob\":5"), "[0]"), NO_BLOBS));
        assertTrue(e.getMessage().contains("command blob 5"), e.getMessage());
    }

    @Test
    void rejectsUnknownFieldsByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlanParser.parse(
                "{\"stages\":[],\"partitions\":[],\"shuffle\":true}", NO_BLOBS));
        assertTrue(e.getMessage().contains("unknown field 'shuffle'"), e.getMessage());
    }

    @Test
    void rejectsMalformedJson() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanParser.parse("{\"stages\": [", NO_BLOBS));
        assertTrue(e.getMessage().startsWith("job plan is not valid JSON"), e.getMessage());
    }

    @Test
    void rejectsAMissingFieldByName() {
        String noCodec = "{\"id\":0,\"numPartitions\":1,\"commandId\":\"a\"," + inlineCommand("x")
                + ",\"input\":{\"kind\":\"empty\"},\"inputCodec\":\"pickle\"}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanParser.parse(plan(noCodec, "[0]"), NO_BLOBS));
        assertTrue(e.getMessage().contains("missing the field 'outputCodec'"), e.getMessage());
    }

    @Test
    void rejectsAPartitionOutsideTheStage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlanParser.parse(
                plan(stage("{\"kind\":\"empty\"}", inlineCommand("x")), "[3]"), NO_BLOBS));
        assertTrue(e.getMessage().contains("partition 3"), e.getMessage());
    }

    @Test
    void rejectsAFractionalPartitionCount() {
        String stage = stage("{\"kind\":\"empty\"}", inlineCommand("x")).replace("\"numPartitions\":3",
                "\"numPartitions\":2.5");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanParser.parse(plan(stage, "[0]"), NO_BLOBS));
        assertTrue(e.getMessage().contains("'numPartitions' must be an integer"), e.getMessage());
    }

    @Test
    void rejectsAnUnknownInputKind() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlanParser.parse(
                plan(stage("{\"kind\":\"shuffle\"}", inlineCommand("x")), "[0]"), NO_BLOBS));
        assertTrue(e.getMessage().contains("unknown kind 'shuffle'"), e.getMessage());
    }
}
