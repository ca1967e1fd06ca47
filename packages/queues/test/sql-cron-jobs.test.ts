import { devstackInfo } from "@balansity/devstack/testing";
import { expect, it } from "vitest";
it("smoke", () => { console.log(devstackInfo()); expect(1).toBe(1); });
