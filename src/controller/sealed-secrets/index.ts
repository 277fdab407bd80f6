/** The Sealed Secrets controller: unseals SealedSecrets into Secrets, keeps the sealing keys, answers kubeseal. */
export { ensureSealedSecretCrd, sealedSecretCrd } from "./crd.ts";
export { DEFAULT_SEALING_WORK_LIMITS, SealingRequestError, type SealingWorkLimits } from "./request-runner.ts";
export { DEFAULT_ROTATION_PERIOD_MS, startSealedSecrets, type SealedSecretsController, type SealedSecretsOptions } from "./runner.ts";
