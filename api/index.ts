// The shopfloor.dev/v1alpha1 contract shared by the operator, the agent, the CLI and the CRDs.
export * from './group.js';
export * from './labels.js';
export * from './quantity.js';
export * from './conditions.js';
export * from './template.js';
export * from './nodeworkload.js';
export * from './nodeassignment.js';
export * from './nodeagent.js';
export * from './validate.js';
export * from './manifest.js';
export * from './crd.js';
