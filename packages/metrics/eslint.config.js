export { default } from '@switchyard/eslint-config';
