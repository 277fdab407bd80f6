import type { KubeClient } from "../kube/client.ts";

interface SelfSubjectReview {
  status?: { userInfo?: { username?: string } };
}

/**
 * The user the API server authenticates this client as (a SelfSubjectReview, Kubernetes 1.28+),
 * for the actor of a history entry: what the server says, not a name the kubeconfig claims.
 * "unknown" when the server cannot say (older servers, or the review is forbidden).
 */
export async function whoAmI(client: KubeClient): Promise<string> {
  try {
    const review = await client.request<SelfSubjectReview>("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    });
    return review.status?.userInfo?.username || "unknown";
  } catch {
    return "unknown";
  }
}
