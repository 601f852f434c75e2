/** `@gpuaas/core/events`: the domain events read from the table's stream and their publishers
 * (EventBridge in AWS, a webhook locally). */
export { publishRecords } from "../event/deliver";
export { type ChangeRecord, toDomainEvent } from "../event/event";
export { createEventBridgePublisher } from "../event/eventbridge";
export type { EventPublisher } from "../event/publisher";
export { createWebhookPublisher } from "../event/webhook";
