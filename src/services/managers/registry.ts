/**
 * registry: every manager a config may name in `webhook.secretManagerType(s)`. A new backend is one file
 * exporting a ManagerDefinition plus one line here (README: "Adding a secret manager").
 */
import { AwsManager } from "./AwsManager.ts"
import { AzureManager } from "./AzureManager.ts"
import { GcpManager } from "./GcpManager.ts"
import { K8sManager } from "./K8sManager.ts"
import type { ManagerDefinition } from "./SecretManager.ts"
import { VaultManager } from "./VaultManager.ts"

export const managerDefinitions: ReadonlyArray<ManagerDefinition> = [
  K8sManager,
  AwsManager,
  GcpManager,
  VaultManager,
  AzureManager
]
