/** CustomResourceDefinitions: usable once the API server serves them. */
import type { KubeObject } from "../model/object.ts";
import { findCondition, withCondition } from "./conditions.ts";
import { stringAt } from "./fields.ts";
import { healthOf, type Health } from "./status.ts";

export function evaluateCustomResourceDefinition(definition: KubeObject): Health {
  // A name conflict with another CRD blocks it until one of them is changed.
  const namesAccepted = findCondition(definition, "NamesAccepted");
  if (namesAccepted?.status === "False") return healthOf(definition, "Failed", withCondition("names not accepted", namesAccepted));

  const established = findCondition(definition, "Established");
  if (established?.status === "True") {
    const plural = stringAt(definition, "spec.names.plural");
    const group = stringAt(definition, "spec.group");
    return healthOf(definition, "Current", plural && group ? `established; serving ${plural}.${group}` : "established");
  }
  // Installing is the normal first moment of a new CRD; any other reason is a refusal.
  if (established?.status === "False" && established.reason !== "Installing") {
    return healthOf(definition, "Failed", withCondition("not established", established));
  }
  return healthOf(definition, "InProgress", withCondition("waiting for the API server to establish it", established));
}
