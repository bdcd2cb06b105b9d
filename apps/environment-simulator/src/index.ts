export { environmentSimulatorService, type SimulatorFaults } from './service';
