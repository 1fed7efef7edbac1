import '@testing-library/jest-dom/vitest';

// jsdom has no canvas: charts take their no-canvas path instead of logging 'not implemented'.
HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
