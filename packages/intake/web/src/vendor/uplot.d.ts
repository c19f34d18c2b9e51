// Served at /assets/vendor/uplot.js: uPlot's minified build from its npm package, as an ES module.
import uPlot from 'uplot';
export default uPlot;
