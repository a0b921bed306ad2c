package lenet.inference.rest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import lenet.contract.wire.ImageEvent;
import lenet.inference.GateSetResource;
import lenet.inference.TestModels;
import lenet.inference.model.ModelManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /api/predict} with real MNIST digits in every accepted form, and every kind of bad
 * input.
 */
@QuarkusTest
@QuarkusTestResource(GateSetResource.class)
class HttpPredictTest {

  @TestHTTPResource("/api/predict")
  URL predictUrl;

  @Inject ModelManager models;
  @Inject HttpAdmission admission;

  long version;

  @BeforeEach
  void model() {
    version = TestModels.ensureServing(models);
  }

  @Test
  void classifiesRealTestDigitsSentAsPixels() {
    int right = 0;
    for (int i = 0; i < 20; i++) {
      Response r =
          given()
              .contentType("application/json")
              .body(TestModels.pixelsJson("digit-" + i, i))
              .post("/api/predict");
      r.then()
          .statusCode(200)
          .body("id", equalTo("digit-" + i))
          .body("modelVersion", equalTo(version));
      List<Float> p = r.path("probabilities");
      assertThat(p).hasSize(10);
      assertThat(p.stream().mapToDouble(Float::doubleValue).sum())
          .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
      right += r.<Integer>path("digit") == TestModels.label(i) ? 1 : 0;
    }
    assertThat(right).as("real test digits classified right, of 20").isGreaterThanOrEqualTo(18);
  }

  @Test
  void rawPixelBytesScoreAsTheirJsonDoesAndAWrongSizeIsNamed() {
    for (int i = 0; i < 5; i++) {
      int[] pixels = TestModels.pixels(i);
      byte[] raw = new byte[pixels.length];
      for (int k = 0; k < raw.length; k++) {
        raw[k] = (byte) pixels[k];
      }
      List<Float> fromJson =
          given()
              .contentType("application/json")
              .body(TestModels.pixelsJson(null, i))
              .post("/api/predict")
              .then()
              .statusCode(200)
              .extract()
              .jsonPath()
              .getList("probabilities", Float.class);
      for (String type : List.of("application/x-mnist-u8", "application/octet-stream")) {
        Response r = given().contentType(type).body(raw).post("/api/predict");
        r.then().statusCode(200).body("digit", equalTo(TestModels.label(i)));
        assertThat(r.jsonPath().getList("probabilities", Float.class))
            .as("%s, digit %d", type, i)
            .isEqualTo(fromJson);
      }
    }
    given()
        .contentType("application/x-mnist-u8")
        .body(new byte[783])
        .post("/api/predict")
        .then()
        .statusCode(400)
        .body("reason", equalTo("WRONG_PIXEL_COUNT"))
        .body("error", org.hamcrest.Matchers.containsString("got 783"));
    // Unknown bytes of another size are read as an image, and refused as one.
    given()
        .contentType("application/octet-stream")
        .body(new byte[783])
        .post("/api/predict")
        .then()
        .statusCode(400)
        .body("reason", equalTo("UNDECODABLE_IMAGE"));
  }

  @Test
  void classifiesRealTestDigitsPhotographedLargeDarkOnWhiteAndOffCentre() {
    int right = 0;
    for (int i = 0; i < 10; i++) {
      byte[] png = TestModels.render(i, 200, 5, 12 + 4 * i, 50 - 3 * i, "png");
      int digit =
          given()
              .contentType("image/png")
              .body(png)
              .post("/api/predict")
              .then()
              .statusCode(200)
              .extract()
              .path("digit");
      right += digit == TestModels.label(i) ? 1 : 0;
    }
    assertThat(right).as("rendered 200x200 PNGs classified right, of 10").isGreaterThanOrEqualTo(9);

    // The first test digit (a 7) the other ways people send images: JPEG bytes, and base64 PNG
    // inside JSON.
    byte[] jpeg = TestModels.render(0, 300, 8, 100, 20, "jpg");
    given()
        .contentType("image/jpeg")
        .body(jpeg)
        .post("/api/predict")
        .then()
        .statusCode(200)
        .body("digit", equalTo(TestModels.label(0)));
    String b64 = Base64.getEncoder().encodeToString(TestModels.render(0, 120, 3, 10, 30, "png"));
    given()
        .contentType("application/json")
        .body(Map.of("id", "b64", "png", b64))
        .post("/api/predict")
        .then()
        .statusCode(200)
        .body("id", equalTo("b64"))
        .body("digit", equalTo(TestModels.label(0)));
  }

  @Test
  void refusesEachKindOfBadInputWith400AndTheReason() throws Exception {
    String pixels = TestModels.pixelsJson(null, 0);
    Map<String, String> json =
        Map.ofEntries(
            Map.entry("", "EMPTY"),
            Map.entry("{\"pixels\": [1, 2", "MALFORMED_JSON"),
            Map.entry("[1, 2, 3]", "WRONG_TYPE"),
            Map.entry("{\"pixels\": \"abc\"}", "WRONG_TYPE"),
            Map.entry("{\"pixels\": [1, 2, 3]}", "WRONG_PIXEL_COUNT"),
            Map.entry(pixels.replaceFirst("\\[0,", "[300,"), "VALUE_OUT_OF_RANGE"),
            Map.entry(pixels.replaceFirst("\\[0,", "[-1,"), "VALUE_OUT_OF_RANGE"),
            Map.entry(pixels.replace("\"pixels\"", "\"pixel\""), "UNKNOWN_FIELD"),
            Map.entry("{\"id\": \"x\"}", "MISSING_FIELD"),
            Map.entry(pixels.replace("{", "{\"png\": \"iVBORw0KGgo=\", "), "INVALID_VALUE"),
            Map.entry("{\"png\": \"not base64 !!\"}", "UNDECODABLE_IMAGE"),
            Map.entry(
                "{\"png\": \"" + Base64.getEncoder().encodeToString("hello".getBytes()) + "\"}",
                "UNDECODABLE_IMAGE"));
    json.forEach(
        (body, reason) ->
            given()
                .contentType("application/json")
                .body(body)
                .post("/api/predict")
                .then()
                .statusCode(400)
                .body("reason", equalTo(reason))
                .body("error", startsWith(reason + ": ")));

    given()
        .contentType("image/png")
        .body(new byte[0])
        .post("/api/predict")
        .then()
        .statusCode(400)
        .body("reason", equalTo("EMPTY"));
    given()
        .contentType("image/png")
        .body("GIF89a not really".getBytes())
        .post("/api/predict")
        .then()
        .statusCode(400)
        .body("reason", equalTo("UNDECODABLE_IMAGE"));
    byte[] truncated = java.util.Arrays.copyOf(TestModels.render(1, 200, 5, 10, 10, "png"), 300);
    given()
        .contentType("image/png")
        .body(truncated)
        .post("/api/predict")
        .then()
        .statusCode(400)
        .body("reason", equalTo("UNDECODABLE_IMAGE"));
    // 4,100 x 4,100 pixels in a few kilobytes: refused from its header, before decoding.
    ByteArrayOutputStream bomb = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(4100, 4100, BufferedImage.TYPE_BYTE_BINARY), "png", bomb);
    given()
        .contentType("image/png")
        .body(bomb.toByteArray())
        .post("/api/predict")
        .then()
        .statusCode(413)
        .body("reason", equalTo("TOO_LARGE"));
    // Over the 2 MiB limit: 413. The server answers before reading the body and closes, so the
    // client asks first (Expect: 100-continue) instead of racing the upload against the answer.
    HttpResponse<String> tooLarge =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .build()
            .send(
                HttpRequest.newBuilder(URI.create(predictUrl.toString()))
                    .expectContinue(true)
                    .header("Content-Type", "image/png")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[3 * 1024 * 1024]))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    given()
        .contentType("text/plain")
        .body("7")
        .post("/api/predict")
        .then()
        .statusCode(415)
        .body("error", org.hamcrest.Matchers.containsString("image/png"));
  }

  @Test
  void beyondTheConcurrentLimitRequestsAreRefusedAtOnceNotQueued() {
    // Every place of both kinds held by answers that complete only on release.
    java.util.concurrent.CompletableFuture<Boolean> release =
        new java.util.concurrent.CompletableFuture<>();
    List<java.util.concurrent.CompletionStage<Boolean>> held = new java.util.ArrayList<>();
    for (HttpAdmission.Kind kind : HttpAdmission.Kind.values()) {
      for (int i = 0; i < admission.limit(kind); i++) {
        held.add(admission.admit(kind, () -> release));
      }
    }
    try {
      long t0 = System.nanoTime();
      given()
          .contentType("application/json")
          .body(TestModels.pixelsJson("one-too-many", 0))
          .post("/api/predict")
          .then()
          .statusCode(503)
          .header("Retry-After", "1")
          .body("reason", equalTo("OVERLOADED"));
      assertThat((System.nanoTime() - t0) / 1e9).as("refused at once, not queued").isLessThan(5);
      given()
          .contentType("application/json")
          .body(
              "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"UINT8\", \"shape\": [1, 28, 28],"
                  + " \"data\": "
                  + java.util.Arrays.toString(new int[784])
                  + "}]}")
          .post("/v2/models/lenet5/infer")
          .then()
          .statusCode(503)
          .body("reason", equalTo("OVERLOADED"))
          .body(
              "error",
              org.hamcrest.Matchers.containsString("inference.http.max-concurrent-batches"));
    } finally {
      release.complete(true);
    }
    held.forEach(h -> assertThat(h.toCompletableFuture().join()).isTrue());
    given()
        .contentType("application/json")
        .body(TestModels.pixelsJson("after", 0))
        .post("/api/predict")
        .then()
        .statusCode(200);
    assertThat(given().get("/q/metrics").asString())
        .contains("inference_http_refused_total{kind=\"image\"")
        .contains("inference_http_refused_total{kind=\"batch\"")
        .contains("inference_http_in_flight");
  }

  @Test
  void everyAnswerGivesItsPlaceBackRefusalsIncluded() {
    // More refusals than places, on each path: read on the event loop (malformed JSON, a raw body
    // of the wrong size) and decoded on a decoder thread (a PNG that is not one). A place kept by
    // any of them would turn the last request into a 503.
    int limit = admission.limit(HttpAdmission.Kind.IMAGE);
    for (int i = 0; i <= limit; i++) {
      given()
          .contentType("application/json")
          .body("{ not json")
          .post("/api/predict")
          .then()
          .statusCode(400)
          .body("reason", equalTo("MALFORMED_JSON"));
      given()
          .contentType("image/png")
          .body(new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3})
          .post("/api/predict")
          .then()
          .statusCode(400);
      given()
          .contentType(ImageEvent.RAW_CONTENT_TYPE)
          .body(new byte[783])
          .post("/api/predict")
          .then()
          .statusCode(400);
    }
    given()
        .contentType("application/json")
        .body(TestModels.pixelsJson("after-refusals", 0))
        .post("/api/predict")
        .then()
        .statusCode(200)
        .body("id", equalTo("after-refusals"));
    assertThat(given().get("/q/metrics").asString())
        .containsPattern("inference_http_in_flight\\{kind=\"image\",?\\} 0\\.0");
  }
}
