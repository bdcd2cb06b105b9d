export { environmentSimulatorService } from './service';
