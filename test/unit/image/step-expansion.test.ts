import { describe, expect, it } from "vitest";
import { applyConfigStep, emptyImageConfig, startStage } from "../../../src/image/config.js";
import { parseDockerfile } from "../../../src/image/dockerfile.js";
import type { CopyStep, ImageStep } from "../../../src/image/plan.js";
import { expandFileStep, heredocBody } from "../../../src/image/step-expansion.js";
import { splitStages } from "../../../src/image/stages.js";

describe("expandFileStep", () => {
  it("expands COPY templates with the variables at that step", () => {
    const plan = parseDockerfile(
      'FROM scratch\nARG SRC=dist\nENV APP=/srv/app OWNER=1000\nCOPY --chown=$OWNER:$OWNER --chmod=${MODE:-644} --from=img:${TAG:-1} "$SRC/a" ${APP}/ \nCOPY <<EOF <<-\'RAW\' $APP/conf\nhome=$APP \\$x "q"\nEOF\n\t$APP\n\tRAW\n',
    );
    const [stage] = splitStages(plan).stages;
    let state = startStage(emptyImageConfig());
    const expanded: ImageStep[] = [];
    for (const step of stage?.steps ?? []) {
      if (step.kind === "copy") expanded.push(expandFileStep(step, state.vars));
      state = applyConfigStep(state, step);
    }
    const [first, second] = expanded as CopyStep[];
    expect(first).toMatchObject({ sources: ["dist/a"], dest: "/srv/app/", chown: "1000:1000", chmod: "644", from: { type: "ref", ref: "img:1" } });
    expect(second?.sources).toEqual(["<<EOF", "<<-'RAW'"]);
    expect(second?.dest).toBe("/srv/app/conf");
    expect(second?.heredocs?.map((h) => h.content)).toEqual(['home=/srv/app \\$x "q"\n', "\t$APP\n"]);
    expect(heredocBody(second?.heredocs?.[1] as never)).toBe("$APP\n");
  });
});
